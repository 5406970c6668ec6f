#!/usr/bin/env node
import '../dist/src/runtime/node.js';
