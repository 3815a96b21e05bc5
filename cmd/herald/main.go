// Command herald is the herald webhook platform: send, receive and develop webhooks locally.
package main

import (
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{Use: "herald"}
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}
