// Echo server on Node's `ws`, the peer of examples/interop_client.rs (see its doc comment for
// the protocol): echoes text and binary; "close-me" closes with 4001 "bye"; "frag-me" sends a
// fragmented text message (a Ping between its fragments) and a fragmented binary message;
// "close-of:PATH" answers the code and reason of the Close received on the last connection to
// PATH.
//
//   node server.mjs PORT
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
const FRAG_TEXT_PARTS = [
  Buffer.from([0x66, 0x72, 0xc3]), // "fr" and the first byte of "ä"
  Buffer.from([0xa4, 0x67]), // the rest of "ä", "g"
  Buffer.alloc(0),
  Buffer.from([0x6d, 0x65, 0x6e, 0x74, 0x20, 0xe2, 0x9c]), // "ment " and two bytes of "✓"
  Buffer.from([0x93, 0x20, 0xf0, 0x9f, 0x98, 0x80]), // the rest of "✓", " 😀"
];
const FRAG_BINARY_SIZES = [1, 0, 125, 126, 1000];

/** Close frames received, by request path: { code, reason }. */
const closes = new Map();

const wss = new WebSocketServer({ host: '127.0.0.1', port, maxPayload: 64 << 20 });
wss.on('listening', () => console.log(`node ws server listening on ${port}`));
wss.on('connection', (ws, request) => {
  const path = request.url;
  closes.delete(path);
  ws.on('error', (error) => console.error(`${path}: ${error.message}`));
  ws.on('close', (code, reason) => closes.set(path, { code, reason: reason.toString() }));
  ws.on('message', async (data, isBinary) => {
    if (isBinary) {
      ws.send(data, { binary: true });
      return;
    }
    const text = data.toString();
    if (text === 'close-me') {
      ws.close(4001, 'bye');
    } else if (text === 'frag-me') {
      FRAG_TEXT_PARTS.forEach((part, i) => {
        ws.send(part, { binary: false, fin: i === FRAG_TEXT_PARTS.length - 1 });
        if (i === 0) ws.ping('mid-message');
      });
      let offset = 0;
      FRAG_BINARY_SIZES.forEach((size, i) => {
        const part = Buffer.alloc(size);
        for (let j = 0; j < size; j++) part[j] = (offset + j) % 251;
        offset += size;
        ws.send(part, { binary: true, fin: i === FRAG_BINARY_SIZES.length - 1 });
      });
    } else if (text.startsWith('close-of:')) {
      const target = text.slice('close-of:'.length);
      // The 'close' event comes once the TCP connection is over; the client may ask sooner.
      for (let waited = 0; !closes.has(target) && waited < 3000; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const close = closes.get(target);
      ws.send(close ? `${close.code} ${close.reason}` : 'none');
    } else {
      ws.send(data, { binary: false });
    }
  });
});
