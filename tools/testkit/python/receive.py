#!/usr/bin/env python3
"""RabbitMQ tutorial 1, receive.py, with pika, as published. Changes for the tests: the
broker comes from AMQP_URL, --quorum declares `hello` as the current tutorials do, and
--max N stops after N messages instead of waiting for CTRL+C."""
import os
import sys

import pika

quorum = '--quorum' in sys.argv[1:]
max_messages = int(sys.argv[sys.argv.index('--max') + 1]) if '--max' in sys.argv else None
received = 0

connection = pika.BlockingConnection(
    pika.URLParameters(os.environ.get('AMQP_URL', 'amqp://guest:guest@localhost:5672/%2F')))
channel = connection.channel()

if quorum:
    channel.queue_declare(queue='hello', durable=True, arguments={'x-queue-type': 'quorum'})
else:
    channel.queue_declare(queue='hello')


def callback(ch, method, properties, body):
    global received
    print(f" [x] Received {body.decode()!r}", flush=True)
    received += 1
    if max_messages is not None and received >= max_messages:
        ch.stop_consuming()


channel.basic_consume(queue='hello', on_message_callback=callback, auto_ack=True)

print(' [*] Waiting for messages. To exit press CTRL+C', flush=True)
channel.start_consuming()
connection.close()
