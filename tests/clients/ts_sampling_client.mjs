// A real TypeScript SDK client (@modelcontextprotocol/sdk 1.32.2) that lends its "model" through MCP sampling.
//
// Usage: node ts_sampling_client.mjs '<json plan>'
//   plan = {command, args, tool: {name, arguments}, reply: "<text the model answers>", model: "<model name>"}
// It starts the server over stdio (the server inherits this process's environment: PBA_TUNNEL_HOME selects
// the store), declares the sampling capability, answers every sampling/createMessage with plan.reply and
// calls the tool. Last line on stdout: a JSON summary {ok, tool, samplingRequests, ...}; exit 0 when the tool
// call returned, 1 on any error.
//
// The test copies this file into the Node client cache before running it, so the bare imports below
// resolve against the cache's node_modules.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const plan = JSON.parse(process.argv[2]);
const summary = { ok: false, samplingRequests: [] };
let client;

function emit() {
    process.stdout.write(JSON.stringify(summary) + '\n');
}

try {
    client = new Client({ name: 'pba-tunnel-ts-sampler', version: '1.0.0' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async request => {
        summary.samplingRequests.push(request.params);
        return {
            role: 'assistant',
            model: plan.model ?? 'ts-stub-model',
            stopReason: 'endTurn',
            content: { type: 'text', text: plan.reply },
        };
    });
    const transport = new StdioClientTransport({
        command: plan.command,
        args: plan.args,
        env: process.env,
        stderr: 'inherit',
    });
    await client.connect(transport);
    summary.serverVersion = client.getServerVersion();
    summary.tool = await client.callTool({ name: plan.tool.name, arguments: plan.tool.arguments });
    summary.ok = true;
    await client.close();
    emit();
    process.exit(0);
} catch (error) {
    summary.error = String(error && error.stack ? error.stack : error);
    try {
        await client?.close();
    } catch {
        // already gone
    }
    emit();
    process.exit(1);
}
