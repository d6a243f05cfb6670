// Typeset TeX with MathJax 3 (as GitHub and Jupyter do) and report every error.
// stdin: a JSON list of {"tex": "...", "display": true|false}; stdout: a JSON list of
// error messages, one per input ("" when it typeset cleanly).
const {mathjax} = require('mathjax-full/js/mathjax.js');
const {TeX} = require('mathjax-full/js/input/tex.js');
const {SVG} = require('mathjax-full/js/output/svg.js');
const {liteAdaptor} = require('mathjax-full/js/adaptors/liteAdaptor.js');
const {RegisterHTMLHandler} = require('mathjax-full/js/handlers/html.js');
const {SerializedMmlVisitor} = require('mathjax-full/js/core/MmlTree/SerializedMmlVisitor.js');
const {STATE} = require('mathjax-full/js/core/MathItem.js');
require('mathjax-full/js/input/tex/base/BaseConfiguration.js');
require('mathjax-full/js/input/tex/ams/AmsConfiguration.js');
require('mathjax-full/js/input/tex/newcommand/NewcommandConfiguration.js');
require('mathjax-full/js/input/tex/boldsymbol/BoldsymbolConfiguration.js');
require('mathjax-full/js/input/tex/mathtools/MathtoolsConfiguration.js');
require('mathjax-full/js/input/tex/color/ColorConfiguration.js');

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const tex = new TeX({
  // what GitHub and Jupyter load (no 'noundefined': an unknown macro is an error here, and no
  // 'textmacros': a backslash inside \\text{} is shown literally there, so it is reported below)
  packages: ['base', 'ams', 'newcommand', 'boldsymbol', 'mathtools', 'color'],
  formatError: (jax, err) => { throw err; },
});
const doc = mathjax.document('', {InputJax: tex, OutputJax: new SVG({fontCache: 'none'})});

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(({tex: source, display}) => {
    try {
      const mml = new SerializedMmlVisitor().visitTree(doc.convert(source, {display, end: STATE.CONVERT}));
      const literal = mml.match(/<mtext[^>]*>[^<]*\\[^<]*<\/mtext>/);
      return literal ? 'a backslash shown as text: ' + literal[0] : '';
    } catch (err) {
      return String(err.message || err);
    }
  });
  process.stdout.write(JSON.stringify(out));
});
