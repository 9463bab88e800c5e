#!/usr/bin/env python3
"""RabbitMQ tutorial 5, emit_log_topic.py, with pika, as published (a non-durable topic
exchange 'topic_logs', routing key '<facility>.<severity>'). One change for the tests: the
broker comes from AMQP_URL instead of 'localhost'."""
import os
import sys

import pika

connection = pika.BlockingConnection(
    pika.URLParameters(os.environ.get('AMQP_URL', 'amqp://guest:guest@localhost:5672/%2F')))
channel = connection.channel()

channel.exchange_declare(exchange='topic_logs', exchange_type='topic')

routing_key = sys.argv[1] if len(sys.argv) > 2 else 'anonymous.info'
message = ' '.join(sys.argv[2:]) or 'Hello World!'
channel.basic_publish(exchange='topic_logs', routing_key=routing_key, body=message)
print(f" [x] Sent {routing_key!r}:{message!r}", flush=True)
connection.close()
