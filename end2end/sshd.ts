// A private OpenSSH sshd for the browser tests, started through the
// test-sshd binary (built by scripts/test) and stopped with its stdin.
import { spawn, type ChildProcess } from "node:child_process";
import * as readline from "node:readline";
import * as path from "node:path";

export interface TestSshd {
  port: number;
  fingerprint: string;
  user: string;
  password: string;
  stop: () => void;
}

export async function startSshd(): Promise<TestSshd> {
  const binary = path.join(__dirname, "..", "target", "debug", "test-sshd");
  const child: ChildProcess = spawn(binary, [], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = readline.createInterface({ input: child.stdout! });
  const first: string = await new Promise((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`test-sshd exited with ${code}`)));
  });
  const info = JSON.parse(first);
  return { ...info, stop: () => child.stdin!.end() };
}
