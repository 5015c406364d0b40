#!/usr/bin/env node
/**
 * Build the store packages: dist/authcheck-chrome.zip and dist/authcheck-firefox.zip, each
 * with its adapted manifest (scripts/manifest.js). `--server URL` writes that origin into
 * host_permissions (a build for one newsroom). `--test-host PATTERN` (repeatable) is for
 * end-to-end test copies only. `--unpacked-only` writes dist/chrome and dist/firefox without
 * zipping. Uses only Node built-ins and the system `zip`-free deflate writer below.
 */
import {
  cpSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { deflateRawSync, crc32 } from "node:zlib";

import { buildManifest, manifestProblems } from "./manifest.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SHIPPED = ["_locales", "icons", "src"];

/** Copy the shipped files and the adapted manifest into `dir`. */
export function writeUnpacked(dir, manifest) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const part of SHIPPED) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  writeFileSync(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .sort();
}

/** A plain ZIP (deflate, fixed timestamp so builds are reproducible) of every file in `dir`. */
export function zipDirectory(dir) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const path of filesUnder(dir)) {
    const name = Buffer.from(relative(dir, path).split("\\").join("/"));
    const data = readFileSync(path);
    const packed = deflateRawSync(data);
    const crc = crc32(data);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(8, 8); // deflate
    header.writeUInt16LE(0, 10); // 00:00
    header.writeUInt16LE(0x21, 12); // 1980-01-01
    header.writeUInt32LE(crc, 14);
    header.writeUInt32LE(packed.length, 18);
    header.writeUInt32LE(data.length, 22);
    header.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    header.copy(central, 8, 6, 30); // flags .. name length: the same fields as the local header
    central.writeUInt32LE(offset, 42);
    locals.push(header, name, packed);
    centrals.push(central, name);
    offset += header.length + name.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function main() {
  const { values } = parseArgs({
    options: {
      server: { type: "string", default: "" },
      "test-host": { type: "string", multiple: true, default: [] },
      "unpacked-only": { type: "boolean", default: false },
      out: { type: "string", default: join(ROOT, "dist") },
    },
  });
  const source = JSON.parse(readFileSync(join(ROOT, "manifest.json"), "utf8"));
  for (const target of ["chrome", "firefox"]) {
    const manifest = buildManifest(source, {
      target,
      server: values.server,
      extraHosts: values["test-host"],
    });
    const problems = manifestProblems(manifest);
    if (problems.length) throw new Error(`${target}: ${problems.join("; ")}`);
    const dir = join(values.out, target);
    writeUnpacked(dir, manifest);
    if (!values["unpacked-only"]) {
      const zip = join(values.out, `authcheck-${target}.zip`);
      writeFileSync(zip, zipDirectory(dir));
      console.log(`wrote ${relative(process.cwd(), zip)}`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
