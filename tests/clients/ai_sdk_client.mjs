// The Vercel AI SDK's MCP client (@ai-sdk/mcp 2.0.99, Node 22) driving `pba-tunnel serve` over stdio.
//
// Usage: node ai_sdk_client.mjs '<json plan>'
//   plan = {command, args, prompt: {name, arguments}, tool: {name, arguments}}
// It starts the server over stdio (the server inherits this process's environment, so PBA_TUNNEL_HOME selects
// the store, and its stderr), connects the way the SDK does by default (it probes with `server/discover` and
// falls back to `initialize`), lists the tools, builds the AI SDK tool set from them, calls one tool, walks
// every page of prompts/list and gets one prompt. Last line on stdout: a JSON summary; exit 0 when every step
// worked, 1 otherwise (the summary says at which step, with the error).
//
// The test copies this file into the Node client cache before running it, so the bare imports below resolve
// against the cache's node_modules.
import { createMCPClient } from '@ai-sdk/mcp';
import { StdioMCPTransport } from '@ai-sdk/mcp/mcp-stdio';

const plan = JSON.parse(process.argv[2]);
const started = performance.now();
const summary = { ok: false, step: 'connect' };
let client;

function elapsed() {
    return Math.round(performance.now() - started);
}

try {
    const transport = new StdioMCPTransport({
        command: plan.command,
        args: plan.args,
        env: process.env,
        stderr: 'inherit',
    });
    client = await createMCPClient({ transport, clientName: 'pba-tunnel-ai-sdk-probe' });
    summary.connectedMs = elapsed();
    summary.serverInfo = client.initializeResult?.serverInfo ?? null;
    summary.protocolVersion = client.initializeResult?.protocolVersion ?? null;
    summary.capabilities = client.initializeResult?.capabilities ?? null;

    summary.step = 'tools/list';
    const listed = await client.listTools();
    summary.toolNames = listed.tools.map(tool => tool.name);

    summary.step = 'AI SDK tool set';
    const toolSet = await client.tools();
    summary.toolSetNames = Object.keys(toolSet);

    summary.step = 'tools/call';
    summary.tool = await client.callTool({ name: plan.tool.name, arguments: plan.tool.arguments });

    summary.step = 'prompts/list';
    const names = [];
    summary.pageSizes = [];
    let cursor;
    do {
        const page = await client.listPrompts(cursor === undefined ? {} : { params: { cursor } });
        summary.pageSizes.push(page.prompts.length);
        names.push(...page.prompts.map(prompt => prompt.name));
        cursor = page.nextCursor;
    } while (cursor);
    summary.promptNames = names;

    summary.step = 'prompts/get';
    summary.prompt = await client.getPrompt({ name: plan.prompt.name, arguments: plan.prompt.arguments });

    summary.step = 'close';
    await client.close();
    summary.ok = true;
    summary.step = 'done';
} catch (error) {
    summary.error = String(error && error.stack ? error.stack : error);
    try {
        await client?.close();
    } catch {
        // already gone
    }
}
summary.totalMs = elapsed();
process.stdout.write(JSON.stringify(summary) + '\n');
process.exit(summary.ok ? 0 : 1);
