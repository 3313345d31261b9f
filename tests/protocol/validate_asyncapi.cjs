// Validate an AsyncAPI document with the official parser (@asyncapi/parser, from
// tests/web/node_modules): prints each diagnostic as one JSON line; exit 1 on any error.
const path = require("path");
const fs = require("fs");
const { Parser } = require(path.join(__dirname, "..", "web", "node_modules", "@asyncapi", "parser"));

async function main() {
  const file = process.argv[2];
  const { document, diagnostics } = await new Parser().parse(fs.readFileSync(file, "utf8"));
  for (const d of diagnostics) {
    console.log(JSON.stringify({ severity: d.severity, code: d.code, message: d.message, path: d.path }));
  }
  const errors = diagnostics.filter((d) => d.severity === 0);
  if (!document || errors.length > 0) {
    process.exit(1);
  }
  console.log(JSON.stringify({ channels: document.channels().length,
    operations: document.operations().length, messages: document.components().messages().length }));
}

main().catch((err) => { console.error(err); process.exit(2); });
