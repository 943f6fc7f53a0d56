// `gradc grade EXERCISE --answers DIR [-o grades.csv|json|html]`: a class's answer files graded question by
// question; `--answer mine.txt`: one student's self-check, with hints and no model answer.

import { extname } from 'node:path';
import type { ParsedArgs } from './args.js';
import { numberOption, UsageError } from './args.js';
import { readExercise } from '../grade/exercise.js';
import { answerFiles, Grader } from '../grade/grade.js';
import { gradesCsv, gradesHtml, gradesJson, gradesText, selfCheckText } from '../grade/output.js';

export function runGrade(args: ParsedArgs, exercisePath: string, write: (file: string, text: string) => void): number {
  const dir = args.options.get('--answers')?.[0];
  const mine = args.options.get('--answer')?.[0];
  if (!dir === !mine) throw new UsageError('grade needs --answers DIR (a class) or --answer FILE (one student\'s self-check)', 'gradc grade --help lists its options');
  const grader = new Grader(readExercise(exercisePath), {
    seed: numberOption(args, '--seed', 1, { integer: true, min: 0 }),
    runs: numberOption(args, '--runs', 100, { integer: true, min: 1 }),
  });
  if (mine) {
    const s = grader.gradeFile(mine);
    console.log(selfCheckText(grader.exercise, s));
    return s.total === s.max ? 0 : 1;
  }
  const students = answerFiles(dir!).map((f) => grader.gradeFile(f));
  if (students.length === 0) throw new UsageError(`${dir}: no answer files in the folder`, 'one file per student, one line per question: dL/dW1 = …');
  const out = args.options.get('-o')?.[0];
  if (!out) { console.log(gradesText(grader.exercise, students)); return 0; }
  const kind = extname(out).toLowerCase();
  const playground = args.options.get('--playground')?.[0];
  const html = (e: typeof grader.exercise, s: typeof students) => gradesHtml(e, s, playground);
  const render = kind === '.csv' ? gradesCsv : kind === '.json' ? gradesJson : kind === '.html' || kind === '.htm' ? html : undefined;
  if (!render) throw new UsageError(`-o ${out}: the grades are written as .csv, .json or .html`);
  write(out, render(grader.exercise, students));
  console.log(`graded ${students.length} answer file${students.length === 1 ? '' : 's'}: wrote ${out}`);
  return 0;
}
