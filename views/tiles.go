package views

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/a-h/templ"
)

// tileHTML memoizes appTile: a tile's HTML is a pure function of its
// AppTile (an app and its badge), and drawing twenty of them through templ
// on every dashboard was most of the page's rendering cost (each { }
// expression formats and copies its string). The cache starts over when
// it holds maxTiles, which bounds it whatever the apps' names.
var tileHTML struct {
	mu sync.RWMutex
	m  map[AppTile]string
}

const maxTiles = 8192

// tileList writes the tiles of apps, each from the cache or drawn once.
func tileList(apps []AppTile) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		for _, a := range apps {
			html, err := tileFor(ctx, a)
			if err != nil {
				return err
			}
			if _, err := io.WriteString(w, html); err != nil {
				return err
			}
		}
		return nil
	})
}

func tileFor(ctx context.Context, a AppTile) (string, error) {
	tileHTML.mu.RLock()
	html, ok := tileHTML.m[a]
	tileHTML.mu.RUnlock()
	if ok {
		return html, nil
	}
	var buf bytes.Buffer
	if err := appTile(a).Render(ctx, &buf); err != nil {
		return "", err
	}
	html = buf.String()
	tileHTML.mu.Lock()
	if tileHTML.m == nil || len(tileHTML.m) >= maxTiles {
		tileHTML.m = make(map[AppTile]string)
	}
	tileHTML.m[a] = html
	tileHTML.mu.Unlock()
	return html, nil
}
