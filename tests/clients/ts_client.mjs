// A real TypeScript SDK client (@modelcontextprotocol/sdk 1.32.2) driving `pba-tunnel serve`.
//
// Usage: node ts_client.mjs '<json plan>'
//   plan = {command, args | url, prompt: {name, arguments}, tool: {name, arguments}, waitSeconds}
// With command/args it starts the server over stdio; the server inherits this process's environment
// (PBA_TUNNEL_HOME selects the store) and its stderr. With url it connects over streamable HTTP.
//
// It connects, walks every page of prompts/list, gets one prompt, calls one tool, then prints the line
// READY and waits for notifications/prompts/list_changed (the test makes another process write to the
// store), then lists the prompts again. Last line on stdout: a JSON summary; exit 0 when the
// notification arrived, 2 when it did not, 1 on any other error.
//
// The test copies this file into the Node client cache before running it, so the bare imports below
// resolve against the cache's node_modules.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { PromptListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const plan = JSON.parse(process.argv[2]);
const summary = { ok: false };
let client;

// prompts/list, following nextCursor to the end.
async function listAllPrompts(client) {
    const names = [];
    const pageSizes = [];
    let cursor;
    do {
        const page = await client.listPrompts(cursor === undefined ? {} : { cursor });
        pageSizes.push(page.prompts.length);
        for (const prompt of page.prompts) {
            names.push(prompt.name);
        }
        cursor = page.nextCursor;
    } while (cursor);
    return { names, pageSizes };
}

function emit() {
    process.stdout.write(JSON.stringify(summary) + '\n');
}

try {
    client = new Client({ name: 'pba-tunnel-ts-probe', version: '1.0.0' }, { capabilities: {} });
    let onListChanged = () => {};
    summary.listChangedNotifications = 0;
    client.setNotificationHandler(PromptListChangedNotificationSchema, notification => {
        summary.listChangedNotifications += 1;
        summary.notification = notification;
        onListChanged(notification);
    });

    const transport = plan.url
        ? new StreamableHTTPClientTransport(new URL(plan.url))
        : new StdioClientTransport({ command: plan.command, args: plan.args, env: process.env, stderr: 'inherit' });
    await client.connect(transport);
    summary.serverVersion = client.getServerVersion();
    summary.serverCapabilities = client.getServerCapabilities();
    summary.protocolVersion = transport.protocolVersion ?? null;

    const { names, pageSizes } = await listAllPrompts(client);
    summary.pages = pageSizes.length;
    summary.pageSizes = pageSizes;
    summary.promptNames = names;

    summary.prompt = await client.getPrompt({ name: plan.prompt.name, arguments: plan.prompt.arguments });
    summary.tool = await client.callTool({ name: plan.tool.name, arguments: plan.tool.arguments });
    summary.notificationsBeforeReady = summary.listChangedNotifications;

    // Only a notification that arrives after READY counts: the test writes to the store after reading it.
    const listChanged = new Promise(resolve => {
        onListChanged = resolve;
    });
    process.stdout.write('READY\n');
    const timeout = new Promise(resolve => setTimeout(() => resolve(null), (plan.waitSeconds ?? 60) * 1000));
    const got = await Promise.race([listChanged, timeout]);
    summary.ok = got !== null;
    if (summary.ok) {
        summary.promptNamesAfter = (await listAllPrompts(client)).names;
    } else {
        summary.error = `no notifications/prompts/list_changed within ${plan.waitSeconds ?? 60} s`;
    }
    await client.close();
    emit();
    process.exit(summary.ok ? 0 : 2);
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
