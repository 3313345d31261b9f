"""The caller at each service window: call keys, status lights, evaluator and clerk sign-in."""
