#!/usr/bin/env python3
"""A corpus of malformed messages for task_queue, published by a non-Node client (pika).

Each malformed message carries a header `x-case: <name>`; every kind of poison the
contract names comes several ways. After them come good messages (UTF-8 text without a
content type, as the tutorials send; text/plain; and application/json {"task": ...}).

The broker comes from AMQP_URL. Publishing uses publisher confirms and the mandatory flag;
for each message one JSON line goes to stdout:
  {"id": "<x-case or good body>", "kind": "malformed"|"good", "status": "confirmed"|"returned"|"nacked"}
`--list` prints the corpus (id and kind) without publishing.
"""
import json
import os
import sys
from decimal import Decimal

import pika

QUEUE = 'task_queue'
MAX_BYTES = 64 * 1024
GOOD_TEXT = 5
GOOD_JSON = 3

XDEATH_ENTRY = {'count': 1, 'reason': 'expired', 'queue': 'task_queue.retry.1', 'exchange': '',
                'routing-keys': ['task_queue.retry.1']}


def case(name, body, content_type=None, headers=None):
    return {'name': name, 'body': body, 'content_type': content_type, 'headers': headers or {}}


def malformed_cases():
    cases = []
    text = 'text/plain'
    as_json = 'application/json'

    # Invalid UTF-8, as text with and without a content type, and inside JSON.
    for name, body in [
        ('utf8-lone-ff', b'\xff'),
        ('utf8-bad-continuation', b'ab\xc3\x28cd'),
        ('utf8-lone-continuation', b'\xa0\xa1'),
        ('utf8-bad-3-byte', b'\xe2\x28\xa1'),
        ('utf8-bad-4-byte', b'\xf0\x28\x8c\xbc'),
        ('utf8-overlong-slash', b'\xc0\xaf'),
        ('utf8-surrogate', b'\xed\xa0\x80'),
        ('utf8-truncated', b'task \xe2\x82'),
    ]:
        cases.append(case(name + '-no-type', body))
    cases.append(case('utf8-invalid-text-plain', b'hello \xfe world', text))
    cases.append(case('utf8-invalid-in-json', b'{"task": "\xff"}', as_json))

    # Content types the contract does not accept.
    for i, content_type in enumerate([
        'application/octet-stream', 'text/html', 'application/xml', 'image/png', 'text/csv',
        'application/x-msgpack', 'text/plain; charset=iso-8859-1', 'application/json; charset=utf-16',
    ]):
        cases.append(case(f'content-type-{i + 1}', b'{"task": "looks fine"}', content_type))

    # Empty bodies.
    cases.append(case('empty-no-type', b''))
    cases.append(case('empty-text-plain', b'', text))
    cases.append(case('empty-json', b'', as_json))

    # Over 64 KiB.
    cases.append(case('oversize-64k-plus-1', b'a' * (MAX_BYTES + 1)))
    cases.append(case('oversize-100k-text-plain', b'b' * 100_000, text))
    cases.append(case('oversize-1m', b'c' * (1024 * 1024)))
    cases.append(case('oversize-json', json.dumps({'task': 'd' * (MAX_BYTES + 10)}).encode(), as_json))

    # Invalid JSON.
    for i, body in enumerate([
        b'{', b'{"task": "x"', b"{'task': 'x'}", b'task', b'{"task": "x",}', b'NaN',
        b'{"task": "x"} trailing', b'{"task": "a\x00b"}', b'{"task": undefined}',
    ]):
        cases.append(case(f'invalid-json-{i + 1}', body, as_json))

    # Nested deeper than 8 levels (checked before parsing).
    cases.append(case('deep-9-arrays-in-task', b'{"task": ' + b'[' * 8 + b'"x"' + b']' * 8 + b'}', as_json))
    cases.append(case('deep-9-objects', b'{"a": ' * 9 + b'1' + b'}' * 9, as_json))
    cases.append(case('deep-1000-arrays', b'[' * 1000 + b']' * 1000, as_json))
    cases.append(case('deep-30000-arrays', b'[' * 30_000 + b']' * 30_000, as_json))
    cases.append(case('deep-unclosed', b'{"task": "x", "more": ' + b'[' * 5000, as_json))

    # Keys that reach prototypes.
    for i, body in enumerate([
        b'{"task": "x", "__proto__": {"polluted": true}}',
        b'{"__proto__": {"task": "x"}}',
        b'{"task": "x", "constructor": {"prototype": {"polluted": true}}}',
        b'{"task": "x", "prototype": 1}',
        b'{"task": "x", "constructor": "y"}',
        b'{"task": "x", "\\u005f\\u005fproto\\u005f\\u005f": {"polluted": true}}',
    ]):
        cases.append(case(f'proto-key-{i + 1}', body, as_json))

    # Valid JSON of the wrong shape.
    for i, body in enumerate([
        b'{}', b'{"task": 1}', b'{"task": null}', b'{"task": "x", "extra": 1}', b'[]',
        b'"just a string"', b'42', b'null', b'true', b'{"Task": "x"}', b'{"task": ["x"]}',
        b'{"task": {"text": "x"}}',
    ]):
        cases.append(case(f'json-shape-{i + 1}', body, as_json))

    # x-death headers the broker would never write (on an otherwise good text message).
    for i, value in enumerate([
        'not an array',
        7,
        XDEATH_ENTRY,
        [1, 2],
        ['expired'],
        [{}],
        [{'count': 'many', 'reason': 'expired', 'queue': 'task_queue.retry.1'}],
        [{'count': -1, 'reason': 'expired', 'queue': 'task_queue.retry.1'}],
        [{'count': 1, 'reason': 'expired'}],
        [XDEATH_ENTRY, 'and a string'],
        b'\x01\x02',
    ]):
        cases.append(case(f'x-death-{i + 1}', f'forged x-death {i + 1}'.encode(), headers={'x-death': value}))

    # x-redeliveries that is not a non-negative integer.
    for i, value in enumerate([-1, '3', Decimal('1.5'), True, [1], {'n': 1}, 'abc']):
        cases.append(case(f'x-redeliveries-{i + 1}', f'forged x-redeliveries {i + 1}'.encode(),
                          headers={'x-redeliveries': value}))

    names = [c['name'] for c in cases]
    assert len(names) == len(set(names)), 'case names must be unique'
    return cases


def good_messages():
    messages = []
    for i in range(1, GOOD_TEXT + 1):
        body = f'good-text #{i}'
        # The tutorials send no content type; one says text/plain.
        messages.append({'id': body, 'body': body.encode(), 'content_type': 'text/plain' if i == 1 else None})
    for i in range(1, GOOD_JSON + 1):
        task = f'good-json #{i}'
        messages.append({'id': task, 'body': json.dumps({'task': task}).encode(), 'content_type': 'application/json'})
    return messages


def main():
    cases = malformed_cases()
    good = good_messages()
    if '--list' in sys.argv[1:]:
        for c in cases:
            print(json.dumps({'id': c['name'], 'kind': 'malformed'}))
        for g in good:
            print(json.dumps({'id': g['id'], 'kind': 'good'}))
        return

    connection = pika.BlockingConnection(
        pika.URLParameters(os.environ.get('AMQP_URL', 'amqp://guest:guest@localhost:5672/%2F')))
    channel = connection.channel()
    channel.confirm_delivery()

    def publish(message_id, kind, body, content_type, headers):
        properties = pika.BasicProperties(content_type=content_type, headers=headers or None, delivery_mode=2,
                                          message_id=f'malformed-corpus-{message_id}')
        try:
            channel.basic_publish(exchange='', routing_key=QUEUE, body=body, properties=properties, mandatory=True)
            status = 'confirmed'
        except pika.exceptions.UnroutableError:
            status = 'returned'
        except pika.exceptions.NackError:
            status = 'nacked'
        print(json.dumps({'id': message_id, 'kind': kind, 'status': status}), flush=True)

    for c in cases:
        publish(c['name'], 'malformed', c['body'], c['content_type'], {**c['headers'], 'x-case': c['name']})
    for g in good:
        publish(g['id'], 'good', g['body'], g['content_type'], None)
    connection.close()


if __name__ == '__main__':
    main()
