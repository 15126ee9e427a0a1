// The child of the compat fork scenario: sends its first message back and disconnects.
process.once('message', (message) => {
  process.send(message, () => process.disconnect());
});
