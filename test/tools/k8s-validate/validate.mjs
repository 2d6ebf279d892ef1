// SPDX-License-Identifier: MIT
// Offline validation of Kubernetes manifests (test/host/test-k8s.py).
//
//   node validate.mjs [--dump] FILE...
//
// Every YAML document of every FILE is checked twice:
//  1. schema: the model class of its apiVersion/kind from the npm package
//     kubernetes-models (generated from the upstream OpenAPI definitions)
//     validates types, enums, formats and required fields;
//  2. fields: every key must be a field of its type. The OpenAPI schema does
//     not forbid unknown keys, but the API server's strict field validation
//     (kubectl's default) rejects them, and a misspelt optional field such as
//     `hostPid` would otherwise pass unnoticed. The field list of each type
//     is read from the same package's type declarations (.d.ts).
//
// YAML is read as YAML 1.1, as the API server's and kubectl's parser reads
// it (0444 is octal, yes/no are booleans).
//
// Prints one JSON line per document:
//   {"file", "index", "apiVersion", "kind", "name", "ok", "errors": [{"path", "message"}]}
// and with --dump also "object": the document as parsed, for further checks.
// Exit status: 0 all valid, 1 some document invalid, 2 a file could not be
// read or parsed (the message on stderr).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseAllDocuments } from 'yaml';


const require = createRequire(import.meta.url);
const modelsRoot = path.dirname(require.resolve('kubernetes-models/package.json'));

// ---- schema validation --------------------------------------------------

async function modelClass(apiVersion, kind) {
	if (typeof apiVersion !== 'string' || typeof kind !== 'string')
		return null;
	// "apps/v1" -> kubernetes-models/apps/v1, "v1" -> kubernetes-models/v1
	if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion))
		return null;
	let mod;
	try {
		mod = await import(`kubernetes-models/${apiVersion}`);
	} catch {
		return null;
	}
	return typeof mod[kind] === 'function' ? mod[kind] : null;
}

function schemaErrors(Model, obj) {
	try {
		new Model(obj).validate();
		return [];
	} catch (e) {
		if (!Array.isArray(e.errors))
			throw e;
		return e.errors.map((x) => ({
			path: x.instancePath || '/',
			message: x.message || `${x.keyword} ${JSON.stringify(x.params)}`,
		}));
	}
}

// ---- unknown-field check from the type declarations ---------------------

const declCache = new Map();

// Resolves an import specifier of FROM (a .d.ts file) to a .d.ts path.
function resolveDecl(from, spec) {
	if (spec.startsWith('.'))
		return path.resolve(path.dirname(from), spec + '.d.ts');
	if (spec.startsWith('@kubernetes-models/')) {
		const [scope, name, ...rest] = spec.split('/');
		const pkg = path.dirname(require.resolve(`${scope}/${name}/package.json`, { paths: [modelsRoot] }));
		return path.join(pkg, ...rest) + '.d.ts';
	}
	return null;
}

// Parses one declaration file: its imports and its first interface's fields.
// Returns null when the file declares no interface (a scalar alias such as
// IntOrString or Quantity).
function loadDecl(file) {
	if (declCache.has(file))
		return declCache.get(file);
	let decl = null;
	if (fs.existsSync(file)) {
		const text = fs.readFileSync(file, 'utf8');
		const imports = new Map();
		for (const m of text.matchAll(/^import \{([^}]*)\} from "([^"]+)";/gm))
			for (const name of m[1].split(',').map((s) => s.trim()).filter(Boolean))
				imports.set(name.split(/\s+as\s+/).pop(), m[2]);
		const body = text.match(/^export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}/m);
		if (body) {
			const fields = new Map();
			// The interface's own lines ("    "name"?: TYPE;"), not doc
			// comments; a map type spans lines up to "    };".
			const lines = body[1].split('\n');
			for (let i = 0; i < lines.length; i++) {
				const m = lines[i].match(/^ {4}"([^"]+)"\??: (.*)$/);
				if (!m)
					continue;
				let type = m[2];
				if (type.endsWith('{')) {
					while (++i < lines.length && !/^ {4}\};$/.test(lines[i]))
						type += ' ' + lines[i].trim();
					type += ' }';
				} else {
					type = type.replace(/;$/, '');
				}
				fields.set(m[1], type);
			}
			decl = { file, imports, fields };
		}
	}
	declCache.set(file, decl);
	return decl;
}

// The declaration of the interface a field's TYPE names, or null for a leaf.
// Returns { kind: 'object' | 'array' | 'map' | 'leaf', decl? }.
function fieldShape(decl, type) {
	let t = type.trim();
	let kind = 'object';
	let m = t.match(/^Array<(.*)>$/);
	if (m) {
		kind = 'array';
		t = m[1].trim();
	} else if ((m = t.match(/^\{\s*\[key: string\]: (.*?);?\s*\}$/))) {
		kind = 'map';
		t = m[1].trim();
	}
	const spec = decl.imports.get(t);
	const target = spec ? loadDecl(resolveDecl(decl.file, spec)) : null;
	return { kind: target ? kind : 'leaf', decl: target };
}

function unknownFields(decl, value, where, out) {
	if (value === null || typeof value !== 'object' || Array.isArray(value))
		return; // a type mismatch is the schema's to report
	for (const [key, v] of Object.entries(value)) {
		const p = `${where}/${key}`;
		const type = decl.fields.get(key);
		if (type === undefined) {
			out.push({ path: p, message: `unknown field "${key}" (not in ${path.basename(decl.file, '.d.ts')})` });
			continue;
		}
		const shape = fieldShape(decl, type);
		if (shape.kind === 'object')
			unknownFields(shape.decl, v, p, out);
		else if (shape.kind === 'array' && Array.isArray(v))
			v.forEach((x, i) => unknownFields(shape.decl, x, `${p}/${i}`, out));
		else if (shape.kind === 'map' && v && typeof v === 'object')
			for (const [k, x] of Object.entries(v))
				unknownFields(shape.decl, x, `${p}/${k}`, out);
	}
}

function topDecl(apiVersion, kind) {
	const file = path.join(modelsRoot, apiVersion, `${kind}.d.ts`);
	return loadDecl(file);
}

// ---- main ---------------------------------------------------------------

async function main(args) {
	const dump = args[0] === '--dump';
	const files = dump ? args.slice(1) : args;
	if (files.length === 0) {
		process.stderr.write('usage: node validate.mjs [--dump] FILE...\n');
		return 2;
	}
	let bad = 0;
	for (const file of files) {
		let docs;
		try {
			docs = parseAllDocuments(fs.readFileSync(file, 'utf8'), { prettyErrors: true, version: '1.1' });
		} catch (e) {
			process.stderr.write(`${file}: ${e.message}\n`);
			return 2;
		}
		let index = 0;
		for (const doc of docs) {
			if (doc.errors.length) {
				process.stderr.write(`${file}: document ${index}: ${doc.errors[0].message}\n`);
				return 2;
			}
			const obj = doc.toJS();
			if (obj === null || obj === undefined)
				continue; // an empty document (a trailing ---)
			const res = {
				file, index, apiVersion: obj.apiVersion ?? null, kind: obj.kind ?? null,
				name: obj.metadata?.name ?? null, ok: false, errors: [],
			};
			const Model = await modelClass(obj.apiVersion, obj.kind);
			if (!Model) {
				res.errors.push({ path: '/', message: `no model for apiVersion ${JSON.stringify(obj.apiVersion)} kind ${JSON.stringify(obj.kind)}` });
			} else {
				res.errors.push(...schemaErrors(Model, obj));
				const decl = topDecl(obj.apiVersion, obj.kind);
				if (!decl)
					res.errors.push({ path: '/', message: `no type declaration for ${obj.apiVersion} ${obj.kind}` });
				else
					unknownFields(decl, obj, '', res.errors);
			}
			res.ok = res.errors.length === 0;
			if (dump)
				res.object = obj;
			if (!res.ok)
				bad++;
			process.stdout.write(JSON.stringify(res) + '\n');
			index++;
		}
	}
	return bad ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));

