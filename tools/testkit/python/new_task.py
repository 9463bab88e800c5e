#!/usr/bin/env python3
"""RabbitMQ tutorial 2, new_task.py, with pika, as published (durable task_queue, persistent
messages). Changes for the tests: the broker comes from AMQP_URL instead of 'localhost', and
--quorum declares task_queue as the current tutorials do (durable, quorum)."""
import os
import sys

import pika

quorum = '--quorum' in sys.argv[1:]

connection = pika.BlockingConnection(
    pika.URLParameters(os.environ.get('AMQP_URL', 'amqp://guest:guest@localhost:5672/%2F')))
channel = connection.channel()

if quorum:
    channel.queue_declare(queue='task_queue', durable=True, arguments={'x-queue-type': 'quorum'})
else:
    channel.queue_declare(queue='task_queue', durable=True)

message = ' '.join(a for a in sys.argv[1:] if a != '--quorum') or "Hello World!"
channel.basic_publish(
    exchange='',
    routing_key='task_queue',
    body=message,
    properties=pika.BasicProperties(delivery_mode=2))  # persistent
print(f" [x] Sent {message}", flush=True)
connection.close()
