#!/usr/bin/env bash
# Render the notes' document to PNG pages (pdflatex + pdftoppm), for a look at what a user sees.
#   bash scripts/render_png.sh [PAGE]   → docs/notes-page-PAGE.png (default: the §3 page)
set -euo pipefail
cd "$(dirname "$0")/.."
page="${1:-4}"
tmp=$(mktemp -d)
jacobian-sym derive derivations/one_layer.toml > /dev/null   # fails early if the tool is not installed
cp derivations/notes.tex "$tmp/"
(cd "$tmp" && pdflatex -interaction=nonstopmode -halt-on-error notes.tex > /dev/null)
pdftoppm -png -r 90 -f "$page" -l "$page" -singlefile "$tmp/notes.pdf" "docs/notes-page-$page"
rm -rf "$tmp"
echo "docs/notes-page-$page.png"
