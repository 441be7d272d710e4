// Command housekeeper-demo shows the App at work with nothing to set up: it
// starts the GitHub emulator and the real webhook server (the code of
// `housekeeper serve`), opens a pull request that adds an unregistered
// directory and a leaked token, delivers the signed pull_request event over
// HTTP, and prints both check runs as GitHub would show them.
//
//	go run ./cmd/housekeeper-demo [-logs]
//
// It exits 0 when both checks failed as expected. The emulator lives only
// in this binary, never in housekeeper's.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	logs := flag.Bool("logs", false, "show the server's logs on stderr")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var logw io.Writer = io.Discard
	if *logs {
		logw = os.Stderr
	}
	err := runWith(ctx, os.Stdout, logw)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "housekeeper-demo: %v\n", err)
		os.Exit(1)
	}
}

// run is the whole demo without the server's logs; tests call it.
func run(ctx context.Context, stdout io.Writer) error { return runWith(ctx, stdout, io.Discard) }
