// Command testimage is the entrypoint of the images the node tests build: run as "pause" it is the
// pod sandbox's process (waits for a signal, reaps children); otherwise it prints a line naming
// the image it was built for (so a test can read it in the container log) and sleeps.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	if len(os.Args) > 1 && os.Args[1] == "pause" {
		children := make(chan os.Signal, 8)
		signal.Notify(children, syscall.SIGCHLD)
		for {
			select {
			case <-stop:
				return
			case <-children:
				for {
					pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
					if pid <= 0 || err != nil {
						break
					}
				}
			}
		}
	}
	fmt.Printf("ocp-registry-access test image %s running\n", os.Getenv("TEST_IMAGE_NAME"))
	select {
	case <-stop:
	case <-time.After(time.Hour):
	}
}
