// The code blocks of a markdown file and the directives written for them, shared by the tests of
// the documentation's examples (test/run/types-examples.test.js type-checks them,
// test/run/examples.test.js runs them).
//
// A directive is an HTML comment (invisible once rendered) on the line or lines right before a
// block's opening fence, one or several in a row:
//   <!-- types: ... -->        what the type check needs (types-examples.test.js)
//   <!-- run: kind: ... -->    what running the block needs (examples.test.js); several allowed
// A fence may be indented (a block inside a list item): its lines lose that indentation.

/**
 * The fenced blocks of `markdown`, in order: [{ line, lang, body, types, run }]. `line` is the
 * 1-based line of the opening fence, `lang` its info word ('' for none), `types` the text of the
 * `types:` directive (or null), `run` the `run:` directives as [{ kind, value }] in the order
 * written (`<!-- run: setup: git init -->` is { kind: 'setup', value: 'git init' }; a directive
 * with no value has value '').
 */
export function codeBlocks(markdown) {
  const lines = markdown.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```(\w*)\s*$/.exec(lines[i]);
    if (fence === null) continue;
    const indent = fence[1];
    let end = i + 1;
    while (end < lines.length && !lines[end].startsWith(`${indent}\`\`\``)) end++;
    const body = lines
      .slice(i + 1, end)
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()))
      .join('\n');
    const { types, run } = directives(lines, i);
    blocks.push({ line: i + 1, lang: fence[2], body, types, run });
    i = end;
  }
  return blocks;
}

/** The directives in the HTML comments that end on the lines right before line `fence`. */
function directives(lines, fence) {
  const comments = [];
  let last = fence - 1;
  while (last >= 0 && lines[last].trimEnd().endsWith('-->')) {
    let start = last;
    while (start > 0 && !lines[start].includes('<!--')) start--;
    comments.unshift(lines.slice(start, last + 1).join('\n'));
    last = start - 1;
  }
  let types = null;
  const run = [];
  for (const comment of comments) {
    const m = /<!--\s*(types|run):([\s\S]*?)-->/.exec(comment);
    if (m === null) continue;
    if (m[1] === 'types') {
      types = m[2].trim();
      continue;
    }
    const d = /^\s*([\w -]+?)\s*(?::([\s\S]*))?$/.exec(m[2]);
    if (d === null) throw new Error(`unreadable run directive: ${comment}`);
    run.push({ kind: d[1], value: (d[2] ?? '').trim() });
  }
  return { types, run };
}
