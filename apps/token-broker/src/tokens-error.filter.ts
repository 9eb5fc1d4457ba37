import { Catch, RpcExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';
import { BusException } from '@broker/bus';
import { TokensError } from '@broker/tokens';

/** Domain errors of the tokens domain become bus errors with the same code. */
@Catch(TokensError)
export class TokensErrorFilter implements RpcExceptionFilter<TokensError> {
  catch(error: TokensError): Observable<never> {
    return throwError(() => new BusException(error.code, error.message, error.fields).getError());
  }
}
