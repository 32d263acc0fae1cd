// Load JSON lines (one record each) into a local PouchDB (LevelDB) and time
// PouchDB.replicate(local, remote, {batch_size}) to completion.
// usage: node replicate.js RECORDS.jsonl REMOTE_URL DIR BATCH_SIZE
const fs = require('fs');
const path = require('path');
const PouchDB = require('pouchdb');

async function main() {
  const [file, remoteUrl, dir, batch] = process.argv.slice(2);
  const docs = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
    const record = JSON.parse(line);
    return { _id: record.id, ...record };
  });
  const local = new PouchDB(path.join(path.resolve(dir), 'local'));
  for (let i = 0; i < docs.length; i += 1000) {
    await local.bulkDocs(docs.slice(i, i + 1000));
  }
  const remote = new PouchDB(remoteUrl);
  await remote.info(); // the database exists and the connection is up before the clock starts
  const started = process.hrtime.bigint();
  const result = await PouchDB.replicate(local, remote, { batch_size: Number(batch) });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const info = await remote.info();
  console.log(JSON.stringify({ ok: result.ok, docs_written: result.docs_written, errors: result.errors.length,
                               remote_docs: info.doc_count, seconds }));
}

main().catch((err) => { console.error(err); process.exit(1); });
