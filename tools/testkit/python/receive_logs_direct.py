#!/usr/bin/env python3
"""RabbitMQ tutorial 4, receive_logs_direct.py, with pika, as published (a server-named
exclusive queue bound to 'direct_logs' once per severity given, auto-ack). Changes for the
tests: the broker comes from AMQP_URL, each line is flushed as printed, the body is printed
as text, and --max N stops after N messages instead of waiting for CTRL+C."""
import os
import sys

import pika

args = sys.argv[1:]
max_messages = None
if '--max' in args:
    at = args.index('--max')
    max_messages = int(args[at + 1])
    del args[at:at + 2]
received = 0

connection = pika.BlockingConnection(
    pika.URLParameters(os.environ.get('AMQP_URL', 'amqp://guest:guest@localhost:5672/%2F')))
channel = connection.channel()

channel.exchange_declare(exchange='direct_logs', exchange_type='direct')

result = channel.queue_declare(queue='', exclusive=True)
queue_name = result.method.queue

severities = args
if not severities:
    sys.stderr.write("Usage: %s [info] [warning] [error]\n" % sys.argv[0])
    sys.exit(1)

for severity in severities:
    channel.queue_bind(exchange='direct_logs', queue=queue_name, routing_key=severity)

print(' [*] Waiting for logs. To exit press CTRL+C', flush=True)


def callback(ch, method, properties, body):
    global received
    print(f" [x] {method.routing_key!r}:{body.decode()!r}", flush=True)
    received += 1
    if max_messages is not None and received >= max_messages:
        ch.stop_consuming()


channel.basic_consume(queue=queue_name, on_message_callback=callback, auto_ack=True)

channel.start_consuming()
connection.close()
