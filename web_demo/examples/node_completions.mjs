// Streamed text from `textgen-export serve BUNDLE --api` with Node's own fetch (Node 18+, no packages).
//
// usage: node examples/node_completions.mjs URL [PROMPT] [MAX_TOKENS] [SEED]
//   e.g. node examples/node_completions.mjs http://127.0.0.1:8000 "Show HN: " 60 7
// The API is OpenAI's completions API; the reply is server-sent events ("data: {...}"), ending "data: [DONE]".
const [url, prompt = "", maxTokens = "60", seed] = process.argv.slice(2);
const body = { prompt, max_tokens: Number(maxTokens), stream: true };
if (seed !== undefined) body.seed = Number(seed);

const response = await fetch(`${url}/v1/completions`, {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body),
});
if (!response.ok) {
  const { error } = await response.json(); // {"error": {"message", "type", "param", "code"}}
  console.error(`error ${response.status}: ${error.message}`);
  process.exit(1);
}

const decoder = new TextDecoder();
let buffer = "";
let done = false;
for await (const bytes of response.body) {
  buffer += decoder.decode(bytes, { stream: true });
  let end;
  while (!done && (end = buffer.indexOf("\n\n")) >= 0) {
    const data = buffer.slice(0, end).replace(/^data: /, "");
    buffer = buffer.slice(end + 2);
    if (data === "[DONE]") done = true;
    else process.stdout.write(JSON.parse(data).choices.map((choice) => choice.text).join(""));
  }
}
process.stdout.write("\n");
