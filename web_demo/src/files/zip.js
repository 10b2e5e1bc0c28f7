// One .zip file of stored (uncompressed) entries, as the page downloads a trained model: local headers, the
// central directory and its end record (PKWARE APPNOTE 4.3), each entry's CRC-32, UTF-8 names (flag bit 11),
// and a fixed date (1980-01-01) so the same files give the same bytes.  Under 4 GiB and 65535 entries (no Zip64).

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zip and gzip use it) of `bytes`. */
export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const UTF8 = 0x0800; // general purpose flag bit 11: names are UTF-8
const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
const LIMIT = 0xffffffff;

/** The zip of `files` ([{path, bytes: Uint8Array}], "/"-separated relative paths) as one Uint8Array. */
export function zipStored(files) {
  const encoder = new TextEncoder();
  const entries = files.map(({ path, bytes }) => ({ name: encoder.encode(path), bytes, crc: crc32(bytes) }));
  const localSize = entries.reduce((n, e) => n + 30 + e.name.length + e.bytes.length, 0);
  const centralSize = entries.reduce((n, e) => n + 46 + e.name.length, 0);
  if (entries.length > 0xffff || localSize + centralSize + 22 > LIMIT) throw new Error("too much to zip without Zip64");
  const out = new Uint8Array(localSize + centralSize + 22);
  const view = new DataView(out.buffer);
  let at = 0;
  const u16 = (v) => (view.setUint16(at, v, true), (at += 2));
  const u32 = (v) => (view.setUint32(at, v, true), (at += 4));
  const put = (bytes) => (out.set(bytes, at), (at += bytes.length));
  const offsets = [];
  for (const e of entries) {
    offsets.push(at);
    u32(0x04034b50); u16(20); u16(UTF8); u16(0); u16(0); u16(DOS_DATE);
    u32(e.crc); u32(e.bytes.length); u32(e.bytes.length); u16(e.name.length); u16(0);
    put(e.name);
    put(e.bytes);
  }
  const central = at;
  entries.forEach((e, i) => {
    u32(0x02014b50); u16(20); u16(20); u16(UTF8); u16(0); u16(0); u16(DOS_DATE);
    u32(e.crc); u32(e.bytes.length); u32(e.bytes.length); u16(e.name.length); u16(0); u16(0);
    u16(0); u16(0); u32(0o100644 * 0x10000); u32(offsets[i]); // external attributes: a regular file, rw-r--r--
    put(e.name);
  });
  const directorySize = at - central;
  u32(0x06054b50); u16(0); u16(0); u16(entries.length); u16(entries.length);
  u32(directorySize); u32(central); u16(0);
  return out;
}
