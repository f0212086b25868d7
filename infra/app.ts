/** The CDK app (`npx cdk synth|deploy`): settings from the context, see infra/README.md. */
import { buildApp } from './build-app.ts';

buildApp().app.synth();
