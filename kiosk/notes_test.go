package kiosk

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"
)

// Every fixed note the lane package can set (a string literal assigned to a
// Note, to a variable named note, or given to hold) has its Chinese here:
// the kiosk shows notes in Chinese by default, and one it does not know
// would show in English. The notes built from parts (a verdict, an
// operator's name) are held to their patterns by TestNotes.
func TestEveryLaneNoteTranslated(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "lane", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := 0
	for _, f := range files {
		if filepath.Ext(f) != ".go" || len(f) > 8 && f[len(f)-8:] == "_test.go" {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		check := func(e ast.Expr) {
			lit, ok := e.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return // built from parts: TestNotes
			}
			note, err := strconv.Unquote(lit.Value)
			if err != nil || note == "" {
				return
			}
			seen++
			if got := noteText(note); got.ZH == note {
				t.Errorf("%s: lane note %q has no Chinese in kiosk/view.go", fset.Position(lit.Pos()), note)
			}
		}
		// The reasons an operator's decision is not taken, shown after
		// "release refused: ".
		for _, d := range file.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "operatorRefusal" {
				ast.Inspect(fn, func(n ast.Node) bool {
					if ret, ok := n.(*ast.ReturnStmt); ok && len(ret.Results) == 1 {
						if lit, ok := ret.Results[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							why, _ := strconv.Unquote(lit.Value)
							if _, known := whys[why]; why != "" && !known {
								t.Errorf("%s: refusal reason %q has no Chinese in kiosk/view.go", fset.Position(lit.Pos()), why)
							}
							seen++
						}
					}
					return true
				})
			}
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				for i, lhs := range n.Lhs {
					if i >= len(n.Rhs) {
						break
					}
					switch l := lhs.(type) {
					case *ast.SelectorExpr:
						if l.Sel.Name == "Note" {
							check(n.Rhs[i])
						}
					case *ast.Ident:
						if l.Name == "note" {
							check(n.Rhs[i])
						}
					}
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "hold" && len(n.Args) == 1 {
					check(n.Args[0])
				}
			}
			return true
		})
	}
	if seen < 10 {
		t.Fatalf("found only %d lane notes: the search no longer matches the lane package", seen)
	}
}
