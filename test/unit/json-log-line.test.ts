import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonLogLine } from '../../src/logging/json-line.js';
import { startupFailure } from '../../src/cli/startup-failure.js';
import { ConfigError } from '../../src/errors/switchyard-error.js';

describe('JSON log lines', () => {
  const at = new Date('2026-12-01T10:00:00.000Z');

  it('one object a line: time, level, msg first, then the fields', () => {
    const line = jsonLogLine('warn', 'flags reload rejected:\n  - a.yaml:3: x: y', { route: 'users', count: 2 }, at);
    assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), 'exactly one line, even for a multi-line message');
    assert.deepEqual(JSON.parse(line), { time: '2026-12-01T10:00:00.000Z', level: 'warn', msg: 'flags reload rejected:\n  - a.yaml:3: x: y', route: 'users', count: 2 });
    assert.deepEqual(Object.keys(JSON.parse(line)).slice(0, 3), ['time', 'level', 'msg']);
  });

  it('never throws, and never lets a field overwrite time, level or msg', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle['self'] = cycle;
    const error = Object.assign(new Error('boom'), { code: 'ECONNREFUSED' });
    const parsed = JSON.parse(jsonLogLine('error', 'm', { level: 'debug', msg: 'forged', n: 10n, cycle, error }, at));
    assert.equal(parsed.level, 'error');
    assert.equal(parsed.msg, 'm');
    assert.equal(parsed['field.level'], 'debug');
    assert.equal(parsed['field.msg'], 'forged');
    assert.equal(parsed.n, '10');
    assert.deepEqual(parsed.cycle, { a: 1, self: '[Circular]' });
    assert.deepEqual(parsed.error, { name: 'Error', message: 'boom', code: 'ECONNREFUSED' });
  });

  it('a start-up failure is written in the chosen format', () => {
    const error = new ConfigError([{ file: 'flags/routes.yaml', line: 6, field: 'routes[0].legacy.upstream', reason: 'no upstream named `flsk`' }]);
    assert.match(startupFailure(error, {}), /^switchyard: cannot start: invalid configuration \(1 problem\):\n {2}- flags\/routes\.yaml:6: routes\[0\]/);
    const json = JSON.parse(startupFailure(error, { SWITCHYARD_LOG_FORMAT: 'json' }));
    assert.equal(json.level, 'error');
    assert.equal(json.msg, 'cannot start: invalid configuration (1 problem):');
    assert.deepEqual(json.issues, [{ file: 'flags/routes.yaml', line: 6, field: 'routes[0].legacy.upstream', reason: 'no upstream named `flsk`' }]);
    assert.equal(JSON.parse(startupFailure(new Error('EADDRINUSE'), { SWITCHYARD_LOG_FORMAT: 'json' })).msg, 'cannot start');
  });
});
