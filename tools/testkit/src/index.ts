export { brokerUrl, redacted, requireBroker, withChannel, inspectQueue, drainQueue } from './broker.js';
export type { QueueState, DrainedMessage } from './broker.js';
export { createTestVhost, ctl } from './vhost.js';
export type { TestVhost } from './vhost.js';
export { RunningProcess, runProcess } from './process.js';
export type { ProcessOptions, ProcessResult } from './process.js';
export { pikaPrograms, pythonWithPika } from './python.js';
export { useTestVhost, eventually, HELLO_QUEUES, TASK_QUEUES } from './fixture.js';
export type { BrokerFixture, FixtureOptions } from './fixture.js';
