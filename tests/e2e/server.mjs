// Starts the real KinLink server binary for one test file: a fresh data
// directory (and a fresh PostgreSQL database when KINLINK_TEST_POSTGRES_URL
// is set), demo data, and a ready file that gives its address. Email goes
// into the data directory's outbox folder, where tests can read it.
//
// Environment:
//   KINLINK_BIN                 server binary (default ~/.cache/kinlink-target/debug/kinlink)
//   KINLINK_TEST_POSTGRES_URL   admin URL; each run creates and drops database e2e_<random>
//   KINLINK_TEST_REDIS_URL      passed to the server as KINLINK__REDIS__URL
//   KINLINK_E2E_KEEP_TEMP       when set, the temporary directory (with server.log) is kept

import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const READY_TIMEOUT_MS = 60_000;
const READY_POLL_MS = 100;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_LINES = 60;
/** Seconds between the server's checks for email to send, so email arrives soon after its event. */
const EMAIL_POLL_SECONDS = '1';

function serverBinary() {
  return (
    process.env.KINLINK_BIN ?? path.join(homedir(), '.cache', 'kinlink-target', 'debug', 'kinlink')
  );
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates a PostgreSQL database for one server through the admin URL. */
async function createDatabase(adminUrl) {
  const name = `e2e_${randomBytes(6).toString('hex')}`;
  await run('psql', [adminUrl, '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE ${name}`]);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

async function dropDatabase(adminUrl, name) {
  try {
    await run('psql', [
      adminUrl,
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`,
    ]);
  } catch (error) {
    console.error(`dropping test database ${name} failed: ${error.stderr ?? error.message}`);
  }
}

async function waitForReadyFile(readyFile, child) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `server exited with ${child.exitCode ?? child.signalCode} before writing ${readyFile}`,
      );
    }
    try {
      return JSON.parse(await readFile(readyFile, 'utf8'));
    } catch {
      // Not written yet, or written halfway: poll again.
    }
    await sleep(READY_POLL_MS);
  }
  throw new Error(`server did not write ${readyFile} within ${READY_TIMEOUT_MS / 1000} s`);
}

function waitForExit(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Decodes a quoted-printable body (RFC 2045) into text, reading its bytes as UTF-8. */
function decodeQuotedPrintable(body) {
  const joined = body.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let index = 0; index < joined.length; index += 1) {
    const hex = joined.slice(index + 1, index + 3);
    if (joined[index] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      index += 2;
    } else {
      bytes.push(...Buffer.from(joined[index], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Parses an `.eml` file into `{ headers, body }`. Header names are lower
 * case, folded header lines are joined, and the body is decoded from its
 * Content-Transfer-Encoding.
 */
export function parseEmail(raw) {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const encodedBody = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  let body = encodedBody;
  if (encoding === 'quoted-printable') body = decodeQuotedPrintable(encodedBody);
  else if (encoding === 'base64') body = Buffer.from(encodedBody, 'base64').toString('utf8');
  return { headers, body };
}

/**
 * Returns the newest email in `outboxDir` whose `To:` is `address`, parsed
 * as by parseEmail, or null when there is none (or no outbox folder yet).
 */
export async function newestEmailTo(outboxDir, address) {
  let names;
  try {
    names = (await readdir(outboxDir)).filter((name) => name.endsWith('.eml'));
  } catch (error) {
    if (error.code === 'ENOENT') return null;
    throw error;
  }
  let newest = null;
  for (const name of names) {
    const file = path.join(outboxDir, name);
    const email = parseEmail(await readFile(file, 'utf8'));
    if (email.headers.to?.toLowerCase() !== address.toLowerCase()) continue;
    const { mtimeMs } = await stat(file);
    if (!newest || mtimeMs > newest.mtimeMs) newest = { ...email, mtimeMs };
  }
  return newest && { headers: newest.headers, body: newest.body };
}

/**
 * Starts `kinlink serve --demo` and waits until it is ready. Returns
 * `{ address, users, dataDir, logPath, outboxDir, logTail(),
 * newestEmailTo(address), runCommand(args), restart(signal), stop() }`,
 * where `users` maps the demo keys (la_manager, la_practitioner,
 * va_practitioner, adoptive_parent, birth_parent, platform_admin and
 * others) to their credentials, `dataDir` is the server's data directory,
 * and `newestEmailTo` reads the outbox as the function of that name does.
 * `runCommand` runs another subcommand of the binary, such as
 * `['queue-news']`, with the server's environment, so that it uses the
 * same database and data directory. That environment also gives the
 * address the server listens on, which the links a command emails point
 * at. It returns the command's standard output.
 */
export async function startServer() {
  const tempDir = await mkdtemp(path.join(tmpdir(), 'kinlink-e2e-'));
  const dataDir = path.join(tempDir, 'data');
  await mkdir(dataDir);
  const readyFile = path.join(tempDir, 'ready.json');
  const logPath = path.join(tempDir, 'server.log');

  const env = {
    ...process.env,
    KINLINK__DATA_DIR: dataDir,
    KINLINK__SERVER__LISTEN: '127.0.0.1:0',
    KINLINK__WEB_DIR: process.env.KINLINK__WEB_DIR ?? path.join(REPO_ROOT, 'web'),
    KINLINK__EMAIL__POLL_SECONDS: EMAIL_POLL_SECONDS,
  };
  // Without an SMTP URL the server writes each email into the outbox folder.
  delete env.KINLINK__EMAIL__SMTP_URL;
  const outboxDir = path.join(dataDir, 'outbox');
  const adminUrl = process.env.KINLINK_TEST_POSTGRES_URL;
  const database = adminUrl ? await createDatabase(adminUrl) : null;
  if (database) env.KINLINK__DATABASE__URL = database.url;
  if (process.env.KINLINK_TEST_REDIS_URL) {
    env.KINLINK__REDIS__URL = process.env.KINLINK_TEST_REDIS_URL;
  }

  const log = await open(logPath, 'w');
  let child;
  /** Starts the binary with the environment above and resolves once it has spawned. */
  function spawnServer() {
    child = spawn(serverBinary(), ['serve', '--demo', '--ready-file', readyFile], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', log.fd, log.fd],
    });
    return new Promise((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  }
  const spawned = spawnServer();

  async function logTail(lines = LOG_TAIL_LINES) {
    try {
      const text = await readFile(logPath, 'utf8');
      return text.split('\n').slice(-lines).join('\n');
    } catch (error) {
      return `(server log unreadable: ${error.message})`;
    }
  }

  async function runCommand(args) {
    try {
      const { stdout } = await run(serverBinary(), args, { cwd: REPO_ROOT, env });
      return stdout;
    } catch (error) {
      throw new Error(`kinlink ${args.join(' ')} failed: ${error.stderr ?? error.message}`, {
        cause: error,
      });
    }
  }

  /**
   * Stops the server with `signal` ('SIGTERM', or 'SIGKILL' for a crash)
   * and starts it again on the same address, data directory and database,
   * so that open pages reconnect to it. Resolves once it is ready again.
   */
  async function restart(signal = 'SIGTERM') {
    child.kill(signal);
    if (!(await waitForExit(child, STOP_GRACE_MS * 3))) {
      throw new Error(`the server did not exit within ${(STOP_GRACE_MS * 3) / 1000} s of ${signal}`);
    }
    await rm(readyFile, { force: true });
    await spawnServer();
    await waitForReadyFile(readyFile, child);
  }

  async function stop() {
    child.kill('SIGTERM');
    if (!(await waitForExit(child, STOP_GRACE_MS))) {
      child.kill('SIGKILL');
      await waitForExit(child, STOP_GRACE_MS);
    }
    await log.close();
    if (database) await dropDatabase(adminUrl, database.name);
    if (process.env.KINLINK_E2E_KEEP_TEMP) console.error(`kept server files in ${tempDir}`);
    else await rm(tempDir, { recursive: true, force: true });
  }

  let ready;
  try {
    await spawned;
    ready = await waitForReadyFile(readyFile, child);
  } catch (error) {
    const tail = await logTail();
    await stop();
    throw new Error(`${error.message}\n--- server log (last lines) ---\n${tail}`, { cause: error });
  }

  // The server was asked for any free port. A restart reuses the port it
  // got, and a subcommand builds the links it emails from this address.
  env.KINLINK__SERVER__LISTEN = new URL(ready.address).host;

  const credentials = JSON.parse(await readFile(ready.demo_credentials, 'utf8'));
  const users = Object.fromEntries(credentials.users.map((user) => [user.key, user]));
  return {
    address: ready.address,
    users,
    dataDir,
    logPath,
    outboxDir,
    logTail,
    newestEmailTo: (address) => newestEmailTo(outboxDir, address),
    runCommand,
    restart,
    stop,
  };
}
