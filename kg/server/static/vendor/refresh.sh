#!/bin/sh
# Rebuild the browser assets in this folder from npm, with their licences:
#   codemirror/codemirror.js   CodeMirror 6 + the SPARQL mode, bundled (esbuild) from codemirror-entry.mjs
#   swagger-ui/                swagger-ui-dist's bundle and stylesheet, for /docs
# Versions are pinned in package.json and package-lock.json (run with --latest to take npm's newest).
# Install scripts are not run (--ignore-scripts): nothing here needs them.
# Needs node and npm; nothing else here reaches the network, and the server never does.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/codemirror-entry.mjs" "$work/"
if [ -f "$here/package-lock.json" ]; then cp "$here/package-lock.json" "$work/"; fi
cd "$work"
if [ "${1:-}" = "--latest" ]; then
  npm install --ignore-scripts --no-audit --no-fund --save-exact \
    $(node -e 'const p=require("./package.json");console.log(Object.keys(p.dependencies).map(n=>n+"@latest").join(" "))')
  npm install --ignore-scripts --no-audit --no-fund --save-exact --save-dev esbuild@latest
  cp package.json package-lock.json "$here/"
elif [ -f package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund   # exactly the versions of the lock, dependencies of dependencies too
else
  npm install --ignore-scripts --no-audit --no-fund
  cp package-lock.json "$here/"
fi

# CodeMirror: one minified script, global CM; the licences of every package that went into it
mkdir -p "$here/codemirror"
npx esbuild codemirror-entry.mjs --bundle --minify --format=iife --global-name=CM \
  --target=es2020 --legal-comments=none --metafile=meta.json --outfile="$here/codemirror/codemirror.js"
node -e '
const fs = require("fs"), path = require("path");
const meta = JSON.parse(fs.readFileSync("meta.json", "utf8"));
const pkgs = new Set();
for (const input of Object.keys(meta.inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) pkgs.add(m[1]);
}
let out = "codemirror.js bundles these npm packages; each one'"'"'s licence follows.\n";
for (const name of [...pkgs].sort()) {
  const dir = path.join("node_modules", name);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  const file = fs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  out += "\n==== " + name + " " + pkg.version + " (" + pkg.license + ") ====\n\n";
  out += file ? fs.readFileSync(path.join(dir, file), "utf8") : "(no licence file in the package; licence: " + pkg.license + ")\n";
}
fs.writeFileSync(process.argv[1], out);
' "$here/codemirror/LICENSE"

# Swagger UI: the prebuilt bundle and stylesheet, as published
mkdir -p "$here/swagger-ui"
for f in swagger-ui-bundle.js swagger-ui.css LICENSE; do
  cp "node_modules/swagger-ui-dist/$f" "$here/swagger-ui/$f"
done
node -e 'console.log(require("./node_modules/swagger-ui-dist/package.json").version)' > "$here/swagger-ui/VERSION"
ls -l "$here/codemirror" "$here/swagger-ui"
