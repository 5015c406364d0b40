import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { inflateRawSync } from "node:zlib";

import { writeUnpacked, zipDirectory } from "../../scripts/build.js";

/** name -> bytes of every entry, read back through the central directory. */
function unzip(buffer) {
  const end = buffer.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = buffer.readUInt16LE(end + 10);
  let at = buffer.readUInt32LE(end + 16);
  const files = {};
  for (let i = 0; i < count; i += 1) {
    assert.equal(buffer.readUInt32LE(at), 0x02014b50);
    const size = buffer.readUInt32LE(at + 24);
    const nameLength = buffer.readUInt16LE(at + 28);
    const local = buffer.readUInt32LE(at + 42);
    const name = buffer.subarray(at + 46, at + 46 + nameLength).toString();
    const packedSize = buffer.readUInt32LE(local + 18);
    const start = local + 30 + buffer.readUInt16LE(local + 26);
    const data = inflateRawSync(buffer.subarray(start, start + packedSize));
    assert.equal(data.length, size);
    files[name] = data;
    at += 46 + nameLength;
  }
  return files;
}

test("the zip holds every shipped file byte for byte, with the adapted manifest", () => {
  const dir = mkdtempSync(join(tmpdir(), "authcheck-build-"));
  writeUnpacked(dir, { manifest_version: 3, name: "x" });
  const files = unzip(zipDirectory(dir));
  assert.deepEqual(JSON.parse(files["manifest.json"]), { manifest_version: 3, name: "x" });
  const worker = new URL("../../src/background.js", import.meta.url);
  assert.deepEqual(files["src/background.js"], readFileSync(worker));
  assert.ok(files["_locales/en/messages.json"] && files["icons/icon-128.png"]);
  assert.equal(
    Object.keys(files).some((name) => name.startsWith("test/") || name.includes("node_modules")),
    false,
  );
});

test("two builds of the same tree are identical (reproducible)", () => {
  const dir = mkdtempSync(join(tmpdir(), "authcheck-build-"));
  writeUnpacked(dir, { manifest_version: 3 });
  assert.deepEqual(zipDirectory(dir), zipDirectory(dir));
});
