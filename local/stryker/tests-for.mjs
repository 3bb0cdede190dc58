// Which web tests load a file (Stryker's command runner runs these for a mutant of it, not all of web/test): every
// test whose relative imports, workers and files read (any './' or '../' .js string in the source), followed from
// file to file, reach it. Packages (@ccp-backstop/client) resolve outside the sandbox, to the unmutated copy, so a
// test reaching the client only through them cannot kill a mutant anyway.
//   node tests-for.mjs <file relative to web/>   prints the test files, one a line (all of them for no file)
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';

const web = process.cwd();
// bundlers.test.js builds the installed (unmutated) package with esbuild, Vite and webpack: seconds a run, no mutant.
const tests = readdirSync(path.join(web, 'test')).filter((f) => f.endsWith('.test.js') && f !== 'bundlers.test.js')
  .map((f) => path.join('test', f));
const target = process.argv[2] && path.normalize(process.argv[2]);
const LITERAL = /['"`](\.{1,2}\/[^'"`?$]+?\.m?js)[?'"`$]/g;

function reaches(from, seen = new Set()) {
  if (seen.has(from)) return false;
  seen.add(from);
  if (from === target) return true;
  const source = readFileSync(path.join(web, from), 'utf8');
  for (const [, spec] of source.matchAll(LITERAL)) {
    const next = path.normalize(path.join(path.dirname(from), spec));
    if (existsSync(path.join(web, next)) && reaches(next, seen)) return true;
  }
  return false;
}

const chosen = target ? tests.filter((t) => reaches(t)) : tests;
console.log((chosen.length ? chosen : tests).join('\n'));
