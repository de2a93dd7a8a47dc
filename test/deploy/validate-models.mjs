// Validates Kubernetes objects against the Kubernetes and Prometheus Operator schemas that
// kubernetes-models and @kubernetes-models/prometheus-operator carry, in two ways:
// - each model's validate(): types, required fields, enums and formats (quantities, ...);
// - the models' TypeScript interfaces, through the compiler: an object literal may only have known
//   properties, so a misspelt field anywhere in the tree is an error (the OpenAPI schemas allow
//   unknown fields, as the API server prunes them; `kubectl apply --validate=strict` rejects them).
// These packages are ES modules only, so kubernetes.ts runs this file with node.
// stdin: [{ name, object }]; stdout: [{ name, error }] for every object that fails.
import { createRequire } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

const require = createRequire(import.meta.url);

/** The model of an apiVersion + kind: the Kubernetes API or the Prometheus Operator's resources. */
function modelModule(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const pkg =
    group === 'monitoring.coreos.com' ? '@kubernetes-models/prometheus-operator' : 'kubernetes-models';
  return `${pkg}/${group === '' ? version : `${group}/${version}`}/${kind}`;
}

async function validateWithSchemas(objects) {
  const failures = [];
  for (const { name, object } of objects) {
    try {
      const module = await import(modelModule(object.apiVersion, object.kind));
      if (typeof module[object.kind] !== 'function')
        throw new Error(`no model for ${object.apiVersion} ${object.kind}`);
      new module[object.kind](object).validate();
    } catch (err) {
      failures.push({ name, error: err instanceof Error ? err.message.split('\n')[0] : String(err) });
    }
  }
  return failures;
}

function validateWithTypes(objects) {
  const file = path.join(
    path.dirname(require.resolve('kubernetes-models/package.json')),
    '..',
    '..',
    '__manifests__.ts',
  );
  const statements = [];
  const starts = [];
  let source = '';
  objects.forEach(({ object }, i) => {
    source += `import type { I${object.kind} as T${i} } from '${modelModule(object.apiVersion, object.kind)}';\n`;
  });
  objects.forEach(({ name, object }, i) => {
    starts.push({ name, at: source.length });
    source += `export const object${i}: T${i} = ${JSON.stringify(object, null, 1)};\n`;
    statements.push(i);
  });
  const options = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile;
  host.getSourceFile = (name, version) =>
    name === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version);
  const fileExists = host.fileExists;
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const failures = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const at = diagnostic.start ?? 0;
    const owner = [...starts].reverse().find((start) => start.at <= at);
    failures.push({
      name:
        diagnostic.file?.fileName === file && owner ? owner.name : (diagnostic.file?.fileName ?? 'compiler'),
      error: ts.flattenDiagnosticMessageText(diagnostic.messageText, ' '),
    });
  }
  return failures;
}

const input = JSON.parse(
  await new Promise((resolve) => {
    let text = '';
    process.stdin.on('data', (chunk) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
  }),
);
process.stdout.write(JSON.stringify([...(await validateWithSchemas(input)), ...validateWithTypes(input)]));
