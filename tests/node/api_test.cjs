// api_test.cjs - a second, independent client of latticed's wadm-compatible
// API: the npm `nats` package (not our C code) drives a `latticed --dev`
// started here, and checks the JSON replies: put created/newversion, get,
// list (both shapes), versions, deploy, status, delete, subject errors,
// apply and history. Prints "N passed, M failed"; exit 1 on any failure.
'use strict';

const { spawn } = require('node:child_process');
const assert = require('node:assert/strict');
const { connect, headers, StringCodec } = require('nats');

const LATTICED = process.argv[2] || process.env.LATTICED_BIN;
const sc = StringCodec();

const YAML = (name, version, tag) => `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: ${name}
  annotations:
    version: ${version}
    description: node test app
spec:
  components:
    - name: http-component
      type: component
      properties:
        image: ghcr.io/wasmcloud/components/http-hello-world-rust:${tag}
      traits:
        - type: spreadscaler
          properties:
            instances: 1
`;

const JSON_MANIFEST = (name, version) => JSON.stringify({
  apiVersion: 'core.oam.dev/v1beta1',
  kind: 'Application',
  metadata: { name, annotations: { version } },
  spec: {
    components: [{
      name: 'c', type: 'component', properties: { image: 'ghcr.io/x/y:1' },
      traits: [{ type: 'spreadscaler', properties: { instances: 1 } }],
    }],
  },
});

function startLatticed() {
  return new Promise((resolve, reject) => {
    const child = spawn(LATTICED, ['--dev', '--dev-example', 'none', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    // Settles when latticed exits, with its exit code and signal (checked after SIGTERM).
    const exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
    const timer = setTimeout(() => reject(new Error('latticed --dev did not come up: ' + out)), 30000);
    child.stdout.on('data', (d) => {
      out += d.toString();
      const m = out.match(/LATTICE_NATS_URL=(nats:\/\/[0-9.]+:[0-9]+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], exited });
      }
    });
    child.on('exit', (code) => reject(new Error(`latticed exited early (${code}): ${out}`)));
  });
}

async function main() {
  if (!LATTICED) throw new Error('usage: node api_test.cjs /path/to/latticed');
  const { child, url, exited } = await startLatticed();
  const nc = await connect({ servers: url });
  const req = async (rest, body, contentType, lattice = 'default') => {
    const opts = { timeout: 10000 };
    if (contentType) {
      const h = headers();
      h.set('Content-Type', contentType);
      opts.headers = h;
    }
    const msg = await nc.request(`wadm.api.${lattice}.${rest}`, sc.encode(body || ''), opts);
    return JSON.parse(sc.decode(msg.data));
  };

  const tests = [];
  const test = (name, fn) => tests.push({ name, fn });

  test('put: created, then newversion; duplicate version is an error', async () => {
    let r = await req('model.put', YAML('node-app', 'v1', '0.1.0'));
    assert.equal(r.result, 'created');
    assert.equal(r.current_version, 'v1');
    assert.equal(r.total_versions, 1);
    assert.equal(r.name, 'node-app');
    r = await req('model.put', JSON_MANIFEST('node-app', 'v2'), 'application/json');
    assert.equal(r.result, 'newversion');
    assert.equal(r.total_versions, 2);
    r = await req('model.put', YAML('node-app', 'v1', '0.1.0'), 'application/yaml');
    assert.deepEqual(r, { result: 'error', message: 'Manifest version v1 already exists' });
  });

  test('get: latest, by version, missing', async () => {
    let r = await req('model.get.node-app');
    assert.equal(r.result, 'success');
    assert.equal(r.manifest.metadata.annotations.version, 'v2');
    r = await req('model.get.node-app', JSON.stringify({ version: 'v1' }));
    assert.equal(r.manifest.metadata.annotations.version, 'v1');
    assert.equal(r.manifest.spec.components[0].properties.image,
      'ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0');
    r = await req('model.get.ghost');
    assert.deepEqual(r, { result: 'notfound', message: 'Application with the name ghost not found' });
  });

  test('list: model.get object and deprecated model.list bare array', async () => {
    const r = await req('model.get');
    assert.equal(r.result, 'success');
    assert.equal(r.message, 'Successfully fetched list of applications');
    assert.equal(r.models.length, 1);
    const m = r.models[0];
    assert.equal(m.name, 'node-app');
    assert.equal(m.version, 'v2');
    assert.equal(m.deployed_version, null);
    assert.equal(m.status, 'undeployed');
    assert.equal(typeof m.detailed_status, 'object');
    const bare = await req('model.list');
    assert.ok(Array.isArray(bare));
    assert.equal(bare[0].name, 'node-app');
  });

  test('versions in insertion order with deployed flags after deploy', async () => {
    let r = await req('model.deploy.node-app', JSON.stringify({ version: 'v1' }));
    assert.deepEqual(r, {
      result: 'acknowledged', message: 'Successfully deployed application node-app v1',
      name: 'node-app', version: 'v1',
    });
    r = await req('model.versions.node-app');
    assert.equal(r.result, 'success');
    assert.deepEqual(r.versions, [{ version: 'v1', deployed: true }, { version: 'v2', deployed: false }]);
    r = await req('model.deploy.ghost');
    assert.deepEqual(r, {
      result: 'notfound', message: 'Application with the name ghost not found', name: 'ghost', version: null,
    });
  });

  test('status: deployed app waits, unknown app is undeployed', async () => {
    let r = await req('model.status.node-app');
    assert.equal(r.result, 'ok');
    assert.equal(r.status.status.type, 'waiting');
    r = await req('model.status.never');
    assert.deepEqual(r, {
      result: 'ok', message: 'Successfully fetched status for application never',
      status: { status: { type: 'undeployed' }, version: '', components: [] },
    });
  });

  test('subject errors are wadm\'s', async () => {
    let r = await req('model');
    assert.deepEqual(r, { result: 'error', message: 'Invalid subject: Expected to find operation' });
    r = await req('blah.get');
    assert.deepEqual(r, { result: 'error', message: 'Unsupported subject: wadm.api.default.blah.get' });
    r = await req('model.get.a.b');
    assert.match(r.message, /^Invalid subject: Found extra components of subject/);
  });

  test('apply: unchanged manifest is a no-op, history records events', async () => {
    let r = await req('model.apply', YAML('applied', 'a1', '1'));
    assert.equal(r.result, 'created');
    assert.deepEqual(r.changed, { put: true, deploy: true });
    r = await req('model.apply', YAML('applied', 'a1', '1'));
    assert.equal(r.result, 'noop');
    assert.deepEqual(r.changed, { put: false, deploy: false });
    r = await req('model.history.applied');
    assert.equal(r.result, 'success');
    assert.deepEqual(r.history.map((e) => [e.event, e.version]), [['put', 'a1'], ['deploy', 'a1']]);
    assert.ok(!Number.isNaN(Date.parse(r.history[0].time)));
  });

  test('delete: one version, noop, all', async () => {
    let r = await req('model.del.node-app', JSON.stringify({ version: 'v1' }));
    assert.deepEqual(r, {
      result: 'deleted', message: 'Successfully deleted version v1 of application node-app', undeploy: true,
    });
    r = await req('model.del.node-app', JSON.stringify({ version: 'v9' }));
    assert.equal(r.result, 'noop');
    r = await req('model.del.node-app');
    assert.deepEqual(r, { result: 'deleted', message: 'Successfully deleted application node-app', undeploy: true });
    r = await req('model.del.node-app');
    assert.equal(r.result, 'noop');
  });

  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    try {
      await t.fn();
      passed++;
      console.log(`ok - ${t.name}`);
    } catch (e) {
      failed++;
      console.log(`not ok - ${t.name}\n  ${String(e && e.stack || e).split('\n').join('\n  ')}`);
    }
  }
  await nc.close();
  // latticed must still be running (exitCode null) and stop cleanly on SIGTERM: exit 0.
  if (child.exitCode !== null || child.signalCode !== null) {
    failed++;
    console.log(`not ok - latticed exited during the tests (${child.exitCode}, ${child.signalCode})`);
  } else {
    child.kill('SIGTERM');
    const st = await exited;
    if (st.code === 0) {
      passed++;
      console.log('ok - latticed exits 0 on SIGTERM');
    } else {
      failed++;
      console.log(`not ok - latticed exit on SIGTERM: code ${st.code}, signal ${st.signal}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
