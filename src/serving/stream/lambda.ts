/**
 * The Lambda function's entry (the bundle `infra/` deploys): the stream function made once per container
 * from the environment, at init, so that a model that cannot be loaded fails the init instead of any
 * invocation answering wrongly.
 */
import { streamVariables } from '../../config.js';
import { initStreamFunction, streamFunctionSettings } from './stream-function.js';

const { handler: streamHandler } = await initStreamFunction(streamFunctionSettings(streamVariables()));

export const handler = streamHandler;
