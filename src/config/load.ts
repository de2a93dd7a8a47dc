import YAML from 'yaml';
import { z } from 'zod';
import { errorMessage, UserError } from '../common/errors';
import { readUserFile } from '../common/files';
import { describeIssue } from '../common/issues';
import { formatPath } from '../common/key-path';
import { configSchema, type Config } from './schema';

/**
 * Keys whose value may instead be read from a file named by `<key>_file` (Docker and Kubernetes
 * secrets). File paths proper (`cert_file`, `ca_file`) are not in this list and stay paths.
 */
export const SECRET_KEYS = [
  'password',
  'bearer_token',
  'bot_token',
  'token',
  'auth_token',
  'api_key',
  'webhook_url',
  'secret',
];

type Path = Array<string | number>;

const ENV_REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** `${VAR}` and `${VAR:-default}` in string values; `$$` is a literal `$`. */
function substituteEnv(value: string, path: Path, env: NodeJS.ProcessEnv): string {
  return value.replace(ENV_REFERENCE, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === '$$') return '$';
    const found = env[name!];
    if (found !== undefined && found !== '') return found;
    if (fallback !== undefined) return fallback;
    throw new UserError(`${formatPath(path)}: environment variable ${name} is not set`);
  });
}

function readSecretFile(file: string, path: Path): string {
  try {
    // Secret files end with a newline more often than not; the secret never does.
    return readUserFile(file).replace(/\r?\n$/, '');
  } catch (err) {
    throw new UserError(`${formatPath(path)}: ${errorMessage(err)}`);
  }
}

/** Walks the parsed YAML: substitutes the environment, then resolves `<secret>_file` keys. */
function resolve(node: unknown, path: Path, env: NodeJS.ProcessEnv): unknown {
  if (typeof node === 'string') return substituteEnv(node, path, env);
  if (Array.isArray(node)) return node.map((item, i) => resolve(item, [...path, i], env));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = resolve(value, [...path, key], env);
  for (const key of SECRET_KEYS) {
    const fileKey = `${key}_file`;
    if (!(fileKey in out)) continue;
    if (key in out)
      throw new UserError(`${formatPath([...path, fileKey])}: set either ${key} or ${fileKey}, not both`);
    const file = out[fileKey];
    if (typeof file !== 'string')
      throw new UserError(`${formatPath([...path, fileKey])}: expected a file path`);
    out[key] = readSecretFile(file, [...path, fileKey]);
    delete out[fileKey];
  }
  return out;
}

/** One schema problem as `key.path: reason`, in words for people (also for channel schemas). */
export { describeIssue };

/**
 * Validates one part of the configuration found at `path`; the first problem becomes a one-line
 * UserError naming the key path. Services check the parts whose schema they own with it.
 */
export function parseSection<T extends z.ZodType>(
  schema: T,
  value: unknown,
  path: Path,
  source = 'config',
): z.output<T> {
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) {
    const issues = result.error.issues;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    const first = issues[0];
    throw new UserError(`${source}: ${describeIssue({ ...first, path: [...path, ...first.path] })}${more}`);
  }
  return result.data;
}

/** Validates an already parsed document; the first problem becomes a one-line UserError. */
export function parseConfig(
  document: unknown,
  env: NodeJS.ProcessEnv = process.env,
  source = 'config',
): Config {
  let resolved: unknown;
  try {
    resolved = resolve(document ?? {}, [], env);
  } catch (err) {
    // Problems of ${ENV} and *_file keys name their key path; the file goes in front, as for the rest.
    if (err instanceof UserError) throw new UserError(`${source}: ${err.message}`);
    throw err;
  }
  return parseSection(configSchema, resolved, [], source);
}

/** Loads the YAML file (or only defaults when there is none). */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): Config {
  if (!file) return parseConfig({}, env);
  const text = readUserFile(file);
  const document = YAML.parseDocument(text);
  if (document.errors.length > 0) {
    const error = document.errors[0];
    const line = error.linePos?.[0];
    const where = line ? `${file}:${line.line}:${line.col}` : file;
    throw new UserError(
      `${where}: invalid YAML: ${error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
    );
  }
  let data: unknown;
  try {
    // yaml refuses aliases that expand exponentially (a "billion laughs" file) with an exception.
    data = document.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new UserError(`${file}: invalid YAML: ${errorMessage(err)}`);
  }
  return parseConfig(data, env, file);
}
