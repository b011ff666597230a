// Command voyce-auth gets a developer from a fresh clone to a working, secure connection to the Voyce
// platform's PostgreSQL (Lakebase) and Databricks OAuth, and keeps it working.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/voyce/voyce-auth/cmd/cmdutil"
	"github.com/voyce/voyce-auth/cmd/root"
	"github.com/voyce/voyce-auth/internal/iostreams"
	"github.com/voyce/voyce-auth/internal/prompt"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(mainRun())
}

func mainRun() int {
	f := cmdutil.New(version)
	noColor := os.Getenv("NO_COLOR") != ""
	for _, a := range os.Args[1:] {
		if a == "--no-color" || a == "-no-color" {
			noColor = true
		}
	}
	f.IO = iostreams.System(noColor)
	f.Prompter = prompt.NewSurvey(prompt.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f.Context = ctx
	code := root.Run(f, os.Args[1:])
	if ctx.Err() != nil && code != cmdutil.ExitOK {
		return cmdutil.ExitInterrupted
	}
	return code
}
