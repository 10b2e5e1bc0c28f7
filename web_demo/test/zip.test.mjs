// zip.js against the standard: the CRC-32 check value, and the archive's records where APPNOTE puts them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32, zipStored } from "../src/files/zip.js";

test("crc32 gives the standard check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array()), 0);
});

test("a stored zip: each entry's header, data and CRC, then the central directory and its end record", () => {
  const files = [
    { path: "manifest.json", bytes: new TextEncoder().encode("{}") },
    { path: "tfjs/grüße.bin", bytes: new Uint8Array([0, 1, 2, 255]) },
  ];
  const zip = zipStored(files);
  const view = new DataView(zip.buffer);
  const end = zip.length - 22;
  assert.equal(view.getUint32(end, true), 0x06054b50);
  assert.equal(view.getUint16(end + 10, true), 2);
  let at = view.getUint32(end + 16, true);
  assert.equal(view.getUint32(end + 12, true), end - at); // the directory's size: from its start to the end record
  for (const { path, bytes } of files) {
    assert.equal(view.getUint32(at, true), 0x02014b50);
    assert.equal(view.getUint32(at + 16, true), crc32(bytes));
    const nameLength = view.getUint16(at + 28, true);
    assert.equal(new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength)), path);
    const local = view.getUint32(at + 42, true);
    assert.equal(view.getUint32(local, true), 0x04034b50);
    const dataAt = local + 30 + view.getUint16(local + 26, true);
    assert.deepEqual(zip.subarray(dataAt, dataAt + bytes.length), bytes);
    at += 46 + nameLength;
  }
});
