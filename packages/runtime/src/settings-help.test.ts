import { describe, expect, it } from 'vitest';
import { formatSettingsHelp } from './settings-help.js';

describe('formatSettingsHelp', () => {
  it('aligns name, default and meaning in columns, each line indented by two', () => {
    expect(
      formatSettingsHelp([
        ['AMQP_URL', 'amqp://guest:guest@localhost:5672', 'the broker'],
        ['WORK_UNIT_MS', '1000', "the worker's work per dot (.) in a task"],
      ]),
    ).toBe(
      [
        '  AMQP_URL      amqp://guest:guest@localhost:5672  the broker',
        "  WORK_UNIT_MS  1000                               the worker's work per dot (.) in a task",
      ].join('\n'),
    );
  });
});
