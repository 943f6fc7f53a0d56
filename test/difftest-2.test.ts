// The differential tester's random models, slice 2 of 3 (test/difftest/slice.ts; the rest of the tester in test/difftest.test.ts).
import { differentialSlice } from './difftest/slice.js';

differentialSlice(2);
