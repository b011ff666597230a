package wizard

import (
	"fmt"
	"sync"
	"time"
)

// spinner shows "⠋ message..." while something runs. On a terminal it animates and erases itself when
// stopped; elsewhere it prints the message once, as a plain line.
type spinner struct {
	stopOnce sync.Once
	done     chan struct{}
	finished chan struct{}
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (w *wizard) startSpinner(msg string) *spinner {
	s := &spinner{done: make(chan struct{}), finished: make(chan struct{})}
	if !w.d.IO.IsStderrTTY() {
		w.printf("%s...\n", msg)
		close(s.finished)
		return s
	}
	// One physical line: "\r" and erase-line only reach the last line of a wrapped one.
	if r := []rune(msg); len(r) > 72 {
		msg = string(r[:71]) + "…"
	}
	out := w.out
	go func() {
		defer close(s.finished)
		// The ticker only paces the animation; nothing is decided from the time.
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			fmt.Fprintf(out, "\r%s %s...", spinnerFrames[i%len(spinnerFrames)], msg)
			select {
			case <-s.done:
				fmt.Fprint(out, "\r\033[K")
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *spinner) stop() {
	s.stopOnce.Do(func() {
		close(s.done)
	})
	<-s.finished
}
