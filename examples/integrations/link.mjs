// Link an authenticator app for a member and log in with the stored key, through the
// `docspace-tfa` command-line tool, against `docspace-tfa emulator`. Node 18 or later, standard
// library only; an ES module (`.mjs`: `import` and top-level `await`).
//
// DOCSPACE_TFA names the binary (default: docspace-tfa on PATH).
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import readline from "node:readline";
import assert from "node:assert/strict";

const TFA = process.env.DOCSPACE_TFA || "docspace-tfa";

/** Runs docspace-tfa with --json: [exit code, parsed stdout]. */
function tfa(args, env) {
  try {
    const out = execFileSync(TFA, [...args, "--json"], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return [0, JSON.parse(out)];
  } catch (err) {
    // A non-zero exit: the JSON error is on stdout.
    if (typeof err.status !== "number") throw err;
    return [err.status, JSON.parse(err.stdout)];
  }
}

// stdin is a pipe: the emulator stops when this process ends it — or dies.
const emulator = spawn(TFA, ["emulator"], { stdio: ["pipe", "pipe", "inherit"] });
const lines = readline.createInterface({ input: emulator.stdout });
const [line] = await once(lines, "line");
lines.close();
const info = JSON.parse(line);
const user = info.users.find((u) => u.email === "user@example.com");
const portal = { DOCSPACE_URL: info.url };

try {
  let [code, linked] = tfa(["link", "--auto"], { ...portal, DOCSPACE_TOKEN: user.apiKey });
  assert.equal(code, 0, JSON.stringify(linked));
  console.log(`linked ${linked.account}: ${linked.backupCodes.length} backup codes`);

  const [again, err] = tfa(["link", "--auto"], { ...portal, DOCSPACE_TOKEN: user.apiKey });
  assert.equal(again, 5, JSON.stringify(err));
  assert.equal(err.error.kind, "not_available");
  console.log(`linking again: exit ${again}, ${err.error.kind}`);

  const [ok, session] = tfa(["login", "--user", user.email], {
    ...portal,
    DOCSPACE_PASSWORD: user.password,
    DOCSPACE_TOTP_KEY: linked.manualEntryKey,
  });
  assert.equal(ok, 0, JSON.stringify(session));
  assert.equal(session.status, "authenticated");
  console.log("logged in with the stored key");
} finally {
  emulator.stdin.end(); // stops the emulator
}
const [exitCode] = await once(emulator, "exit");
assert.equal(exitCode, 0);
