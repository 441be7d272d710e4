// Command gencorpus writes the labeled evaluation corpus to a directory
// (files under -out, labels as JSON to -labels) so that other tools can be
// scored on it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fl := flag.NewFlagSet("gencorpus", flag.ContinueOnError)
	out := fl.String("out", "", "directory to write the corpus files to (required)")
	labels := fl.String("labels", "", "file to write the labels to (default: OUT.labels.json)")
	seed := fl.Uint64("seed", 1, "random seed")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("-out is required")
	}
	if *labels == "" {
		*labels = *out + ".labels.json"
	}
	c := corpus.Generate(*seed)
	if err := c.Write(*out, *labels); err != nil {
		return err
	}
	fmt.Printf("wrote %d files with %d planted findings to %s (labels: %s)\n", len(c.Files), len(c.Labels), *out, *labels)
	return nil
}
