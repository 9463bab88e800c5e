#!/usr/bin/env python3
"""RabbitMQ tutorial 1, send.py, with pika, as published. Two changes for the tests: the
broker comes from AMQP_URL instead of 'localhost', and --quorum declares `hello` the way
the current tutorials do (durable, quorum) instead of the original way (neither)."""
import os
import sys

import pika

args = [a for a in sys.argv[1:] if a != '--quorum']
quorum = '--quorum' in sys.argv[1:]
body = ' '.join(args) or 'Hello World!'

connection = pika.BlockingConnection(
    pika.URLParameters(os.environ.get('AMQP_URL', 'amqp://guest:guest@localhost:5672/%2F')))
channel = connection.channel()

if quorum:
    channel.queue_declare(queue='hello', durable=True, arguments={'x-queue-type': 'quorum'})
else:
    channel.queue_declare(queue='hello')

channel.basic_publish(exchange='', routing_key='hello', body=body)
print(f" [x] Sent '{body}'", flush=True)
connection.close()
