#!/usr/bin/env node
// logqlcheck: prove that every LogQL expression aiobs renders parses with
// Grafana's LogQL grammar (@grafana/lezer-logql, Apache-2.0; the grammar
// behind Grafana's Loki query editor). Syntax only: Loki's semantic checks
// (non-empty matcher rule, regex compilation, template parsing) are not run.
//
// Usage: node check.mjs [--list] [--exprs FILE]... [DIR...]
//
// Sources of expressions:
//   - Loki ruler files: *.yaml/*.yml with a "loki" directory component in
//     their path: groups[].rules[].expr
//   - Grafana dashboards: *.json whose top level has a "panels" array: the
//     expr of every target (rows' nested panels included) whose datasource
//     type is "loki" (target.datasource.type, else panel.datasource.type)
//   - --exprs FILE: one expression per line (blank and #-comment lines skipped)
//
// Exit status: 0 all parse; 1 some failed or nothing was found; 2 usage error.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@grafana/lezer-logql';
import YAML from 'yaml';

export const USAGE = `usage: node tools/logqlcheck/check.mjs [--list] [--exprs FILE]... DIR...

Checks that every LogQL expression in Loki ruler files (*.yaml/*.yml under a
"loki/" directory) and in Loki targets of Grafana dashboards (*.json with a
top-level "panels" array) under each DIR parses with @grafana/lezer-logql.

  --list        print every expression found (file, location, expr), then check
  --exprs FILE  also check FILE: one expression per line; blank lines and
                lines starting with # are skipped
  -h, --help    show this help

Exit status: 0 all parse, 1 parse failures or no expressions found, 2 usage.`;

const strictParser = parser.configure({ strict: true });

// ---------------------------------------------------------------------------
// Parsing one expression

/**
 * Parse one LogQL expression.
 * Returns {ok: true} or {ok: false, offset, reason}. offset is a JS string
 * index into expr.
 */
export function checkExpr(expr) {
  if (typeof expr !== 'string') {
    return { ok: false, offset: 0, reason: 'expression is not a string' };
  }
  if (expr.trim() === '') {
    return { ok: false, offset: 0, reason: 'empty expression' };
  }

  // Judge 1: the error-tolerant parse must contain no error node.
  const tree = parser.parse(expr);
  let firstErr = null;
  tree.iterate({
    enter(node) {
      if (node.type.isError && (firstErr === null || node.from < firstErr.from)) {
        firstErr = { from: node.from, to: node.to };
      }
    },
  });

  // Judge 2: the same grammar in strict mode (throws on the first token it
  // cannot shift) must accept it too. The two normally agree; either one
  // rejecting is enough.
  let strictOffset = null;
  try {
    strictParser.parse(expr);
  } catch (err) {
    const m = /No parse at (\d+)/.exec(String(err && err.message));
    strictOffset = m ? Number(m[1]) : 0;
  }

  if (firstErr !== null || strictOffset !== null) {
    let offset;
    if (firstErr === null) offset = strictOffset;
    else if (strictOffset === null) offset = firstErr.from;
    else offset = Math.min(firstErr.from, strictOffset);
    return { ok: false, offset, reason: describeAt(expr, offset) };
  }

  // Structure: LogQL [0, len] > exactly one Expr (plus skipped comments),
  // and the Expr is a log or metric query.
  const top = tree.topNode;
  if (top.name !== 'LogQL' || top.from !== 0 || top.to !== expr.length) {
    return { ok: false, offset: 0, reason: `top node is ${top.name}, not a complete LogQL query` };
  }
  const kids = [];
  for (let c = top.firstChild; c; c = c.nextSibling) {
    if (c.name !== 'LineComment') kids.push(c);
  }
  if (kids.length !== 1 || kids[0].name !== 'Expr') {
    const at = kids.length > 1 ? kids[1].from : 0;
    return { ok: false, offset: at, reason: 'not a single LogQL expression' };
  }
  const inner = kids[0].firstChild;
  if (!inner || (inner.name !== 'LogExpr' && inner.name !== 'MetricExpr') || inner.from !== kids[0].from || inner.to !== kids[0].to) {
    return { ok: false, offset: kids[0].from, reason: 'not a log or metric query' };
  }

  // Lexical rule the grammar is lax about: Loki unquotes "..." strings with
  // Go's rules, so "\d" is an "invalid char escape" in Loki.
  const bad = findBadStringEscape(expr, tree);
  if (bad) return { ok: false, offset: bad.offset, reason: bad.reason };

  return { ok: true };
}

function describeAt(expr, offset) {
  if (offset >= expr.trimEnd().length) return 'unexpected end of expression';
  const rest = expr.slice(offset).trimStart();
  if (rest[0] === '"' && !/^"(?:[^"\\\n]|\\.)*"/.test(rest)) return 'unterminated string';
  if (rest[0] === '`' && rest.indexOf('`', 1) < 0) return 'unterminated string';
  const m = /^(?:[A-Za-z_:][A-Za-z0-9_:]*|\d[\w.]*|\S)/.exec(rest);
  const tok = m ? m[0] : rest[0];
  return `unexpected ${JSON.stringify(tok.length > 24 ? tok.slice(0, 24) + '…' : tok)}`;
}

const SIMPLE_ESCAPES = new Set(['a', 'b', 'f', 'n', 'r', 't', 'v', '\\', '"']);

function findBadStringEscape(expr, tree) {
  let bad = null;
  tree.iterate({
    enter(node) {
      if (bad || node.name !== 'String') return;
      const text = expr.slice(node.from, node.to);
      if (text[0] !== '"') return; // back-quoted raw strings have no escapes
      if (text.length < 2 || text[text.length - 1] !== '"') {
        bad = { offset: node.from, reason: 'unterminated string' };
        return;
      }
      for (let i = 1; i < text.length - 1; i++) {
        if (text[i] !== '\\') continue;
        const at = node.from + i;
        const c = text[i + 1];
        let len = 0;
        if (SIMPLE_ESCAPES.has(c)) {
          i += 1;
          continue;
        } else if (c >= '0' && c <= '7') {
          const oct = text.slice(i + 1, i + 4);
          if (/^[0-7]{3}$/.test(oct) && parseInt(oct, 8) <= 255) {
            i += 3;
            continue;
          }
        } else if (c === 'x') len = 2;
        else if (c === 'u') len = 4;
        else if (c === 'U') len = 8;
        if (len) {
          const hex = text.slice(i + 2, i + 2 + len);
          const v = parseInt(hex, 16);
          const validHex = new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex);
          const validRune = c === 'x' || (v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff));
          if (validHex && validRune) {
            i += 1 + len;
            continue;
          }
        }
        bad = {
          offset: at,
          reason: `invalid escape ${text.slice(i, i + 2)} in double-quoted string (Loki unquotes "..." like Go; write regexes in back-quotes)`,
        };
        return;
      }
    },
  });
  return bad;
}

// ---------------------------------------------------------------------------
// Grafana template variables

const DURATION_VARS = new Set(['__auto', '__interval', '__rate_interval', '__range']);
const NUMBER_VARS = new Map([
  ['__interval_ms', '60000'],
  ['__range_ms', '60000'],
  ['__range_s', '60'],
  ['__from', '1700000000000'],
  ['__to', '1700000060000'],
]);

/** Find $name, ${name[:fmt]} and [[name]] outside strings and # comments. */
export function findGrafanaVars(expr) {
  const out = [];
  const re = /\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z0-9_.:]+)\]\]/y;
  let i = 0;
  while (i < expr.length) {
    const ch = expr[i];
    if (ch === '"') {
      i++;
      while (i < expr.length && expr[i] !== '"' && expr[i] !== '\n') i += expr[i] === '\\' ? 2 : 1;
      i++;
    } else if (ch === '`') {
      const j = expr.indexOf('`', i + 1);
      i = j < 0 ? expr.length : j + 1;
    } else if (ch === '#') {
      const j = expr.indexOf('\n', i);
      i = j < 0 ? expr.length : j + 1;
    } else if (ch === '$' || (ch === '[' && expr[i + 1] === '[')) {
      re.lastIndex = i;
      const m = re.exec(expr);
      if (m) {
        const raw = m[1] ?? m[2] ?? m[3];
        const name = raw.split(/[:.]/)[0].trim();
        out.push({ start: i, end: i + m[0].length, text: m[0], name });
        i += m[0].length;
      } else {
        i++;
      }
    } else {
      i++;
    }
  }
  return out;
}

function candidatesFor(name) {
  if (DURATION_VARS.has(name)) return ['1m'];
  if (NUMBER_VARS.has(name)) return [NUMBER_VARS.get(name)];
  let ident = 'var_' + name.replace(/[^A-Za-z0-9_]/g, '_');
  return [ident, '1', '1m'];
}

function firstErrorOffset(expr) {
  const r = checkExpr(expr);
  return r.ok ? Infinity : r.offset;
}

/**
 * Replace Grafana variables outside quoted strings with parseable stand-ins,
 * the way Grafana interpolates before it sends a query: $__auto, $__interval,
 * $__rate_interval, $__range -> 1m; $__*_ms/_s, $__from/$__to -> numbers;
 * any other variable -> an identifier (var_<name>), a number or a duration,
 * whichever keeps the parse going past it (chosen left to right). Variables
 * inside "..." or `...` strings stay as they are.
 */
export function substituteGrafanaVars(expr) {
  const vars = findGrafanaVars(expr);
  if (vars.length === 0) return expr;
  const cands = vars.map((v) => candidatesFor(v.name));
  const chosen = cands.map((c) => c[0]);
  const build = () => {
    let s = '';
    let last = 0;
    const ends = [];
    vars.forEach((v, k) => {
      s += expr.slice(last, v.start) + chosen[k];
      ends.push(s.length);
      last = v.end;
    });
    return { s: s + expr.slice(last), ends };
  };
  for (let k = 0; k < vars.length; k++) {
    if (cands[k].length < 2) continue;
    for (const c of cands[k]) {
      chosen[k] = c;
      const { s, ends } = build();
      if (firstErrorOffset(s) > ends[k]) break;
      chosen[k] = cands[k][0];
    }
  }
  return build().s;
}

// ---------------------------------------------------------------------------
// Collecting expressions from files

function isLokiRulePath(file) {
  const dirs = path.dirname(file).split(/[\\/]+/);
  return dirs.includes('loki') && /\.ya?ml$/i.test(file);
}

/** Walk DIR (or a single file) recursively, sorted, not following symlinks. */
export function walk(root) {
  const files = [];
  const st = fs.statSync(root);
  if (!st.isDirectory()) return [root];
  const rec = (dir) => {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isSymbolicLink()) continue;
      if (e.isDirectory()) rec(p);
      else if (e.isFile()) files.push(p);
    }
  };
  rec(root);
  return files;
}

function scalarToString(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return v;
}

/**
 * Collect from one Loki ruler file.
 * Returns {items: [{file, where, expr}], problems: [{file, where, message}]}.
 */
export function collectRuleFile(file, text) {
  const items = [];
  const problems = [];
  let docs;
  try {
    docs = YAML.parseAllDocuments(text);
  } catch (err) {
    problems.push({ file, where: '', message: `invalid YAML: ${firstLine(err.message)}` });
    return { items, problems };
  }
  if (!Array.isArray(docs)) docs = [docs];
  docs.forEach((doc, d) => {
    const docWhere = docs.length > 1 ? `document ${d + 1} ` : '';
    if (doc.errors && doc.errors.length) {
      problems.push({ file, where: docWhere.trim(), message: `invalid YAML: ${firstLine(doc.errors[0].message)}` });
      return;
    }
    const data = doc.toJS({ maxAliasCount: 1000 });
    if (data === null || typeof data !== 'object' || !('groups' in data)) return; // not a rule file
    if (!Array.isArray(data.groups)) {
      problems.push({ file, where: docWhere.trim(), message: '"groups" is not a list' });
      return;
    }
    data.groups.forEach((g, gi) => {
      const gname = g && typeof g === 'object' && g.name !== undefined ? String(g.name) : `#${gi + 1}`;
      const gWhere = `${docWhere}group ${JSON.stringify(gname)}`;
      if (!g || typeof g !== 'object') {
        problems.push({ file, where: gWhere, message: 'group is not a mapping' });
        return;
      }
      if (g.rules === undefined || g.rules === null) return;
      if (!Array.isArray(g.rules)) {
        problems.push({ file, where: gWhere, message: '"rules" is not a list' });
        return;
      }
      g.rules.forEach((r, ri) => {
        const rname = r && typeof r === 'object' ? (r.alert ?? r.record) : undefined;
        const where = `${gWhere} rule ${ri + 1}${rname !== undefined ? ' ' + JSON.stringify(String(rname)) : ''}`;
        if (!r || typeof r !== 'object') {
          problems.push({ file, where, message: 'rule is not a mapping' });
          return;
        }
        items.push({ file, where, expr: scalarToString(r.expr) });
      });
    });
  });
  return { items, problems };
}

/** Collect from one Grafana dashboard; null if the JSON is not a dashboard. */
export function collectDashboard(file, data) {
  if (data === null || typeof data !== 'object' || !Array.isArray(data.panels)) return null;
  const items = [];
  const dsType = (ds) => (ds && typeof ds === 'object' && typeof ds.type === 'string' ? ds.type : undefined);
  const visit = (panels) => {
    for (const p of panels) {
      if (!p || typeof p !== 'object') continue;
      const title = typeof p.title === 'string' ? p.title : '';
      if (Array.isArray(p.targets)) {
        p.targets.forEach((t, ti) => {
          if (!t || typeof t !== 'object') return;
          const type = dsType(t.datasource) ?? dsType(p.datasource);
          if (type !== 'loki') return;
          const ref = typeof t.refId === 'string' && t.refId !== '' ? t.refId : `#${ti + 1}`;
          const where = `panel ${JSON.stringify(title)} target ${ref}`;
          const original = scalarToString(t.expr);
          const expr = typeof original === 'string' ? substituteGrafanaVars(original) : original;
          items.push({ file, where, expr, original });
        });
      }
      if (Array.isArray(p.panels)) visit(p.panels);
    }
  };
  visit(data.panels);
  return items;
}

export function collectExprsFile(file, text) {
  const items = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    items.push({ file, where: `line ${i + 1}`, expr: line });
  });
  return items;
}

function firstLine(s) {
  return String(s).split('\n')[0].replace(/:\s*$/, '');
}

// ---------------------------------------------------------------------------
// Reporting

/** An excerpt of the line holding offset, with a caret under it. */
export function excerpt(expr, offset) {
  const lineStart = expr.lastIndexOf('\n', offset - 1) + 1;
  let lineEnd = expr.indexOf('\n', offset);
  if (lineEnd < 0) lineEnd = expr.length;
  let line = expr.slice(lineStart, lineEnd);
  let col = offset - lineStart;
  const WIDTH = 60;
  if (line.length > 2 * WIDTH) {
    const from = Math.max(0, col - WIDTH);
    const to = Math.min(line.length, col + WIDTH);
    line = (from > 0 ? '…' : '') + line.slice(from, to) + (to < line.length ? '…' : '');
    col = col - from + (from > 0 ? 1 : 0);
  }
  line = line.replace(/\t/g, ' ');
  return `    ${line}\n    ${' '.repeat(col)}^`;
}

function formatFailure(f) {
  const loc = f.where ? `${f.file}: ${f.where}` : f.file;
  if (f.message) return `${loc}: ${f.message}`;
  const note = f.substituted ? ' (after substituting Grafana variables)' : '';
  let pos = `offset ${f.offset}`;
  if (typeof f.expr === 'string' && f.expr.trimEnd().includes('\n')) {
    const before = f.expr.slice(0, f.offset);
    pos += ` (line ${before.split('\n').length}, column ${f.offset - before.lastIndexOf('\n')})`;
  }
  const head = `${loc}: logql parse error at ${pos}: ${f.reason}${note}`;
  return typeof f.expr === 'string' && f.expr.trim() !== '' ? `${head}\n${excerpt(f.expr, f.offset)}` : head;
}

// ---------------------------------------------------------------------------
// CLI

export function parseArgs(argv) {
  const opts = { list: false, exprs: [], dirs: [], help: false };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    } else if (a === '--list') opts.list = true;
    else if (a === '-h' || a === '--help') opts.help = true;
    else if (a === '--exprs') {
      if (i + 1 >= argv.length) throw new UsageError('--exprs needs a FILE');
      opts.exprs.push(argv[++i]);
    } else if (a.startsWith('--exprs=')) opts.exprs.push(a.slice('--exprs='.length));
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
    else opts.dirs.push(a);
  }
  opts.dirs.push(...argv.slice(i));
  if (!opts.help && opts.dirs.length === 0 && opts.exprs.length === 0) {
    throw new UsageError('no DIR given');
  }
  return opts;
}

class UsageError extends Error {}

/** Run the check; returns {code, stdout, stderr} without touching process. */
export function run(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) return { code: 2, stdout: '', stderr: `logqlcheck: ${err.message}\n${USAGE}\n` };
    throw err;
  }
  if (opts.help) return { code: 0, stdout: USAGE + '\n', stderr: '' };

  for (const p of [...opts.dirs, ...opts.exprs]) {
    if (!fs.existsSync(p)) {
      return { code: 2, stdout: '', stderr: `logqlcheck: ${p}: no such file or directory\n${USAGE.split('\n')[0]}\n` };
    }
  }

  const items = [];
  const problems = [];
  const seen = new Set();
  const files = [];
  for (const d of opts.dirs) {
    for (const f of walk(d)) {
      const key = fs.realpathSync(f);
      if (seen.has(key)) continue;
      seen.add(key);
      files.push(f);
    }
  }
  for (const file of files) {
    if (isLokiRulePath(file)) {
      const r = collectRuleFile(file, fs.readFileSync(file, 'utf8'));
      items.push(...r.items);
      problems.push(...r.problems);
    } else if (/\.json$/i.test(file)) {
      let data;
      try {
        data = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch (err) {
        problems.push({ file, where: '', message: `invalid JSON: ${firstLine(err.message)}` });
        continue;
      }
      const got = collectDashboard(file, data);
      if (got) items.push(...got);
    }
  }
  for (const f of opts.exprs) items.push(...collectExprsFile(f, fs.readFileSync(f, 'utf8')));

  let stdout = '';
  if (opts.list) {
    for (const it of items) {
      const show = (e) => (typeof e === 'string' ? e.replace(/\n/g, '\\n') : String(e));
      const orig = it.original !== undefined ? it.original : it.expr;
      stdout += `${it.file}: ${it.where}: ${show(orig)}\n`;
      if (orig !== it.expr) stdout += `    parsed as: ${show(it.expr)}\n`;
    }
  }

  const failures = problems.map((p, seq) => ({ ...p, seq: -1 - seq }));
  items.forEach((it, seq) => {
    const r = checkExpr(it.expr);
    if (!r.ok) {
      failures.push({
        ...it,
        seq,
        offset: r.offset,
        reason: r.reason,
        substituted: it.original !== undefined && it.original !== it.expr,
      });
    }
  });
  failures.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.seq - b.seq));

  const nfiles = new Set(items.map((it) => it.file)).size;
  let stderr = failures.map((f) => formatFailure(f) + '\n').join('');
  if (failures.length > 0) {
    stderr += `logqlcheck: ${failures.length} problem${failures.length === 1 ? '' : 's'} (${items.length} expressions in ${nfiles} files checked)\n`;
    return { code: 1, stdout, stderr };
  }
  if (items.length === 0) {
    stderr += `logqlcheck: no LogQL expressions found in ${[...opts.dirs, ...opts.exprs].join(' ')}\n`;
    return { code: 1, stdout, stderr };
  }
  stdout += `logqlcheck: ${items.length} expressions in ${nfiles} files parse\n`;
  return { code: 0, stdout, stderr };
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) {
    process.stderr.write(`logqlcheck: needs Node >= 20, this is ${process.version}\n`);
    process.exit(2);
  }
  const r = run(process.argv.slice(2));
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.code;
}
