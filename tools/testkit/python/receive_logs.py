#!/usr/bin/env python3
"""RabbitMQ tutorial 3, receive_logs.py, with pika, as published (a server-named exclusive
queue bound to the fanout exchange 'logs', auto-ack). Changes for the tests: the broker comes
from AMQP_URL, each line is flushed as printed, the body is printed as text, and --max N
stops after N messages instead of waiting for CTRL+C."""
import os
import sys

import pika

max_messages = int(sys.argv[sys.argv.index('--max') + 1]) if '--max' in sys.argv else None
received = 0

connection = pika.BlockingConnection(
    pika.URLParameters(os.environ.get('AMQP_URL', 'amqp://guest:guest@localhost:5672/%2F')))
channel = connection.channel()

channel.exchange_declare(exchange='logs', exchange_type='fanout')

result = channel.queue_declare(queue='', exclusive=True)
queue_name = result.method.queue

channel.queue_bind(exchange='logs', queue=queue_name)

print(' [*] Waiting for logs. To exit press CTRL+C', flush=True)


def callback(ch, method, properties, body):
    global received
    print(f" [x] {body.decode()!r}", flush=True)
    received += 1
    if max_messages is not None and received >= max_messages:
        ch.stop_consuming()


channel.basic_consume(queue=queue_name, on_message_callback=callback, auto_ack=True)

channel.start_consuming()
connection.close()
