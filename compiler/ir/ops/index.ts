// The op table: importing this module registers every op. Adding an op is adding one record to one family.

import './leaves.js';
import './elementwise.js';
import './linalg.js';
import './kron.js';
import './reduce.js';
import './nn.js';
import './image.js';
import './call.js';
