package kiosk

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/lane"
)

// Every note code and every refusal reason code the lane package declares
// (lane/notes.go: the Note* and Why* constants) has its Chinese here: the
// kiosk shows notes in Chinese by default, and one it does not know would
// show in English.
func TestEveryLaneNoteTranslated(t *testing.T) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, filepath.Join("..", "lane", "notes.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	ast.Inspect(file, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if i >= len(vs.Values) {
				break
			}
			lit, ok := vs.Values[i].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				continue
			}
			code, _ := strconv.Unquote(lit.Value)
			switch {
			case strings.HasPrefix(name.Name, "Note"):
				seen++
				_, known := noteZH[code]
				if !known && code != lane.NoteVerdictHeld && code != lane.NoteSecondCard {
					t.Errorf("%s: lane note %s (%q) has no Chinese in kiosk/view.go", fset.Position(lit.Pos()), name.Name, code)
				}
			case strings.HasPrefix(name.Name, "Why"):
				seen++
				if _, known := whyZH[code]; !known {
					t.Errorf("%s: refusal reason %s (%q) has no Chinese in kiosk/view.go", fset.Position(lit.Pos()), name.Name, code)
				}
			}
		}
		return true
	})
	if seen < 30 {
		t.Fatalf("found only %d lane note codes: the search no longer matches the lane package", seen)
	}
}
