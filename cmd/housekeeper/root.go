package main

import (
	"errors"
	"io"

	"github.com/spf13/cobra"
)

// errSilent ends a command with a status and nothing more to print.
var errSilent = errors.New("")

func asExit(err error, target **exitError) bool { return errors.As(err, target) }

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "housekeeper",
		Short:         "Keep an infrastructure repository's directory map and secret hygiene honest",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr("%v (see %s --help)", err, c.CommandPath())
	})
	root.AddCommand(newCheckCmd())
	root.AddCommand(newInitCmd())
	root.AddCommand(newServeCmd())
	root.AddCommand(newSetupCmd())
	root.AddCommand(newActionCmd())
	root.AddCommand(newHookCmd())
	return root
}
