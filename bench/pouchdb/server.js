// An express-pouchdb server on loopback, databases in LevelDB (PouchDB's default node adapter) under DIR.
// usage: node server.js PORT DIR
const path = require('path');
const express = require('express');
const PouchDB = require('pouchdb');

const [port, dir] = process.argv.slice(2);
const DB = PouchDB.defaults({ prefix: path.resolve(dir) + path.sep });
const app = express();
app.use('/', require('express-pouchdb')(DB, { mode: 'minimumForPouchDB', inMemoryConfig: true, logPath: path.join(dir, 'log.txt') }));
app.listen(Number(port), '127.0.0.1', () => console.log('listening'));
