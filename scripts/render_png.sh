#!/usr/bin/env bash
# Render the documents in derivations/ to PNG, for a look at what a reader sees:
#   bash scripts/render_png.sh            → docs/pages/<model>.png (first page of each model's document)
#                                            and docs/notes-page-4.png (the notes' softmax Jacobian and §3)
#   bash scripts/render_png.sh notes 5    → docs/notes-page-5.png
# Needs pdflatex (apt-get install texlive-latex-base texlive-latex-recommended) and pdftoppm
# (apt-get install poppler-utils).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in pdflatex pdftoppm; do
  if ! command -v "$tool" > /dev/null; then
    echo "error: $tool is missing (apt-get install texlive-latex-base texlive-latex-recommended poppler-utils)" >&2
    exit 2
  fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jacobian-sym render > /dev/null   # the documents as the engine renders them now
page() {  # page FILE.tex PAGE OUT.png
  cp "$1" "$tmp/doc.tex"
  (cd "$tmp" && pdflatex -interaction=nonstopmode -halt-on-error doc.tex > /dev/null)
  pdftoppm -png -r 80 -f "$2" -l "$2" -singlefile "$tmp/doc.pdf" "${3%.png}"
  echo "$3"
}
if [ "${1:-}" = "notes" ]; then
  page derivations/notes.tex "${2:-4}" "docs/notes-page-${2:-4}.png"
  exit 0
fi
mkdir -p docs/pages
for tex in derivations/*.tex; do
  name=$(basename "$tex" .tex)
  [ "$name" = notes ] && continue
  page "$tex" 1 "docs/pages/$name.png"
done
page derivations/notes.tex 4 docs/notes-page-4.png
